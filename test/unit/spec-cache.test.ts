// The validated-spec cache: a hit skips validation, any change to the spec or a key file misses.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec, specCachePath } from '../../src/spec/load.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICache me@host';

describe('spec cache', () => {
  it('is written only for a valid spec and follows the spec and its key files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cache-'));
    const spec = join(dir, 'flakevirt.yaml');
    const key = join(dir, 'id.pub');
    writeFileSync(key, `${KEY}\n`);
    writeFileSync(spec, `sshKeyFiles: [${key}]\nguests:\n  a: { memory: 1GiB }\n`);
    const first = await loadSpec(spec);
    const cache = specCachePath(spec);
    expect(existsSync(cache)).toBe(true);
    expect(existsSync(join(dir, '.flakevirt'))).toBe(false); // nothing next to the spec
    expect((await loadSpec(spec)).fleet).toEqual(first.fleet);
    // A tampered cache with a stale key is ignored; a changed key file is picked up.
    writeFileSync(key, `${KEY.replace('Cache', 'Other')}\n`);
    expect((await loadSpec(spec)).fleet.sshKeys).toEqual([KEY.replace('Cache', 'Other')]);
    writeFileSync(spec, `sshKeyFiles: [${key}]\nguests:\n  a: { memory: 2GiB }\n`);
    expect((await loadSpec(spec)).fleet.guests[0]!.memoryBytes).toBe(2 * 1024 ** 3);
    // An invalid spec is still rejected even though a cache exists, and does not replace it.
    const before = readFileSync(cache, 'utf8');
    writeFileSync(spec, 'guests:\n  a: { memory: 2GB }\n');
    await expect(loadSpec(spec)).rejects.toThrow(/binary units/);
    expect(readFileSync(cache, 'utf8')).toBe(before);
  });

  it('still checks referenced files on a cache hit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cache-'));
    const img = join(dir, 'base.qcow2');
    writeFileSync(img, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), Buffer.alloc(64)])); // a qcow2 header
    const spec = join(dir, 'flakevirt.yaml');
    writeFileSync(spec, `guests:\n  a: { image: ${img} }\n`);
    await loadSpec(spec);
    const { rmSync } = await import('node:fs');
    rmSync(img);
    await expect(loadSpec(spec)).rejects.toThrow(/base.qcow2 does not exist/);
  });

  it('is keyed on the whole build: another build id misses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cache-'));
    const spec = join(dir, 'flakevirt.yaml');
    writeFileSync(spec, 'guests:\n  a: { memory: 1GiB }\n');
    await loadSpec(spec);
    const entry = JSON.parse(readFileSync(specCachePath(spec), 'utf8')) as { key: string; fleet: { guests: Array<{ memoryBytes: number }> } };
    // An entry that says something else under a key no current build makes is never used.
    entry.fleet.guests[0]!.memoryBytes = 7;
    entry.key = 'f'.repeat(64);
    writeFileSync(specCachePath(spec), JSON.stringify(entry));
    expect((await loadSpec(spec)).fleet.guests[0]!.memoryBytes).toBe(1024 ** 3);
  });

  it('is not trusted in a directory others can write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cache-'));
    const spec = join(dir, 'flakevirt.yaml');
    writeFileSync(spec, 'guests:\n  a: { memory: 1GiB }\n');
    await loadSpec(spec);
    const file = specCachePath(spec);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { fleet: { guests: Array<{ memoryBytes: number }> } };
    entry.fleet.guests[0]!.memoryBytes = 7; // same key, planted content
    writeFileSync(file, JSON.stringify(entry));
    const cacheDir = join(file, '..');
    chmodSync(cacheDir, 0o777);
    try {
      expect((await loadSpec(spec)).fleet.guests[0]!.memoryBytes).toBe(1024 ** 3);
    } finally {
      chmodSync(cacheDir, 0o700);
      rmSync(file, { force: true });
    }
  });
});
