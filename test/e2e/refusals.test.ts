// What a refusal leaves behind (nothing), one lock place for every command, and guest directories
// that are not what they claim, on a real libvirtd + QEMU in a private test host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, finish, TestHost, tinyGuest } from '../helpers/testhost.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('refuse');
let boot = '';

/** Every path under `dir` with its type, mode and content: equal snapshots mean untouched. */
function snapshot(dir: string): string[] {
  if (!existsSync(dir)) return ['(absent)'];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid}${st.isFile() ? ` ${readFileSync(p).toString('base64')}` : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(skip)('refusals, locks and guest directories on a real host', () => {
  beforeAll(() => {
    host!.up();
    const g = tinyGuest();
    boot = `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
  });
  afterAll(() => host?.down());

  function spec(name: string, body: string): string {
    const file = join(host!.scratch, `${name}.yaml`);
    writeFileSync(file, `pool: ${join(host!.scratch, 'pool')}\naccel: tcg\ndefaults: { memory: 384MiB, vcpus: 1, diskSize: 1GiB }\n${body}`);
    return file;
  }

  it('a spec refused for any reason exits 2 and leaves the pool byte for byte as it was', () => {
    const pool = join(host!.scratch, 'pool');
    mkdirSync(pool, { recursive: true });
    writeFileSync(join(pool, 'keep.txt'), 'before');
    const backed = join(host!.scratch, 'backed.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', tinyGuest().base, '-F', 'qcow2', backed]);
    const g = tinyGuest();
    const refusals: Array<[string, string, RegExp]> = [
      ['schema', `guests:\n  R_BAD: { ${boot} }\n`, /guests/],
      ['rules', `guests:\n  r1: { ${boot}, disks: { /dev/vdc: { size: 16MiB } } }\n`, /vdb/],
      ['capabilities (nawupf needs a newer QEMU)', `guests:\n  r1: { ${boot}, disks: { /dev/nvme0n1: { size: 16MiB, nawupf: 7 } } }\n`, /nawupf/],
      ['a base image with a backing file', `guests:\n  r1: { image: ${backed}, kernel: ${g.kernel}, initrd: ${g.initrd} }\n`, /has a backing file of its own/],
      ['placement (does not fit)', `hosts:\n  local: { connect: "qemu:///system", memory: 128MiB }\nguests:\n  r1: { ${boot} }\n`, /do not fit/],
    ];
    for (const [kind, body, message] of refusals) {
      const before = snapshot(pool);
      const r = host!.flakevirt('up', '-f', spec('refused', body), '--timeout', '60');
      expect(r.status, `${kind}: ${r.stderr}`).toBe(2);
      expect(r.stderr, kind).toMatch(message);
      expect(snapshot(pool), kind).toEqual(before);
      expect(host!.virsh('list', '--all', '--name').trim(), kind).toBe('');
    }
  });

  it('up and down of one guest never run at once, also with a per-host pool', async () => {
    const file = spec('lock', `hosts:\n  local: { connect: "qemu:///system", pool: ${join(host!.scratch, 'pool-b')} }\nguests:\n  lk: { ${boot} }\n`);
    const up = host!.spawnFlakevirt('up', '-f', file, '--timeout', '120');
    const upDone = finish(up);
    // Once up holds the guest (it is waiting for the lease), down must wait for it.
    await new Promise<void>((resolve) => {
      let err = '';
      up.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (/waiting for a fresh DHCP lease/.test(err)) resolve(); });
    });
    const down = await finish(host!.spawnFlakevirt('down', '-f', file));
    const u = await upDone;
    expect(u.status, u.stderr).toBe(0);
    expect(down.status, down.stderr).toBe(0);
    expect(down.stderr).toMatch(/waiting for flakevirt process \d+/);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });

  it('a guest directory that is a symlink is refused, never followed', () => {
    const pool = join(host!.scratch, 'pool');
    const victim = join(host!.scratch, 'victim');
    mkdirSync(victim, { recursive: true });
    writeFileSync(join(victim, 'precious'), 'data');
    symlinkSync(victim, join(pool, 'sl'));
    const before = snapshot(victim);
    const file = spec('symlink', `guests:\n  sl: { ${boot}, disks: { /dev/vdb: { size: 16MiB } } }\n`);
    const r = host!.flakevirt('up', '-f', file, '--timeout', '60');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/pool\/sl is a symbolic link/);
    expect(snapshot(victim)).toEqual(before);
    const d = host!.flakevirt('down', '--all', '-f', file);
    expect(snapshot(victim)).toEqual(before);
    expect(d.stderr + d.stdout).not.toMatch(/precious/);
  });
});
