// The validated-spec cache: a hit skips validation, any change to the spec or a key file misses.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '../../src/spec/load.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICache me@host';

describe('spec cache', () => {
  it('is written only for a valid spec and follows the spec and its key files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cache-'));
    const spec = join(dir, 'flakevirt.yaml');
    const key = join(dir, 'id.pub');
    writeFileSync(key, `${KEY}\n`);
    writeFileSync(spec, `sshKeyFiles: [${key}]\nguests:\n  a: { memory: 1GiB }\n`);
    const first = await loadSpec(spec);
    const cache = join(dir, '.flakevirt', 'spec-cache.json');
    expect(existsSync(cache)).toBe(true);
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
    writeFileSync(img, 'x');
    const spec = join(dir, 'flakevirt.yaml');
    writeFileSync(spec, `guests:\n  a: { image: ${img} }\n`);
    await loadSpec(spec);
    const { rmSync } = await import('node:fs');
    rmSync(img);
    await expect(loadSpec(spec)).rejects.toThrow(/base.qcow2 does not exist/);
  });
});
