// Crash safety and concurrency on a real libvirtd: SIGKILL in the middle of `up`, then re-run;
// two `up` runs on one spec at once. The end state must be one correct fleet with nothing left over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { join } from 'node:path';
import { e2eSkipReason, finish, killWhen, TestHost, tinyGuest } from '../helpers/testhost.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('crash');
let spec = '';
let pool = '';

describe.skipIf(skip)('crash safety and concurrency', () => {
  beforeAll(() => {
    host!.up();
    spec = join(host!.scratch, 'flakevirt.yaml');
    pool = join(host!.scratch, 'pool');
    const g = tinyGuest();
    writeFileSync(spec, `pool: ${pool}
accel: tcg
defaults: { memory: 384MiB, vcpus: 1, diskSize: 1GiB }
guests:
  cr-a:
    image: ${g.base}
    kernel: ${g.kernel}
    initrd: ${g.initrd}
    cmdline: console=ttyS0 quiet
    disks: { /dev/nvme0n1: { size: 16MiB }, /dev/vdb: { size: 16MiB } }
`);
  });
  afterAll(() => host?.down());

  it.each([
    ['after the root overlay', /creating \/dev\/nvme0n1/],
    ['after define', /defining domain/],
    ['while waiting for the lease', /waiting for a fresh DHCP lease/],
  ])('SIGKILL %s, then up again converges', async (_when, pattern) => {
    const child = host!.spawnFlakevirt('up', '-f', spec);
    await killWhen(child, pattern);
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cr-a\s+\d+\.\d+\.\d+\.\d+/);
    expect(host!.virsh('domstate', 'cr-a').trim()).toBe('running');
    const files = readdirSync(join(pool, 'cr-a')).sort();
    expect(files).toEqual(['console.log', 'flakevirt-guest.json', 'nvme0n1.raw', 'root.qcow2', 'vdb.raw']);
    const down = host!.flakevirt('down', '-f', spec);
    expect(down.status, down.stderr).toBe(0);
    expect(existsSync(join(pool, 'cr-a'))).toBe(false);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });

  it('up after a reimage killed before its lease waits for this boot\'s lease instead of reporting the last one', async () => {
    expect(host!.flakevirt('up', '-f', spec, '--timeout', '120').status).toBe(0);
    // The guest restarts with the previous boot's lease still in dnsmasq's status file.
    await killWhen(host!.spawnFlakevirt('reimage', '-f', spec), /waiting for a fresh DHCP lease/);
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/its lease for this boot was never seen/);
    const ip = /cr-a\s+(\d+\.\d+\.\d+\.\d+)\s+lease confirmed/.exec(r.stdout)?.[1];
    expect(ip, r.stdout).toBeDefined();
    // The console log is this boot's only (append off): the guest itself obtained that address.
    expect(readFileSync(join(pool, 'cr-a', 'console.log'), 'utf8')).toContain(`lease of ${ip} obtained`);
    expect(host!.flakevirt('up', '-f', spec).stdout).toMatch(/cr-a .*running and up to date/);
    // A boot flakevirt did not start (and so has no record of) is started again by up.
    host!.virsh('destroy', 'cr-a');
    host!.virsh('start', 'cr-a');
    const again = host!.flakevirt('up', '-f', spec, '--timeout', '120');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/no record of this boot getting a lease/);
    expect(again.stdout).toMatch(/cr-a\s+\d+\.\d+\.\d+\.\d+\s+started/);
  });

  it.each([
    ['after stopping the guest', /\] stopping/],
    ['while replacing the root overlay', /replacing root overlay/],
    ['while waiting for the lease', /waiting for a fresh DHCP lease/],
  ])('SIGKILL of reimage %s, then reimage again converges and keeps the extra disk\'s data', async (_when, pattern) => {
    expect(host!.flakevirt('up', '-f', spec, '--timeout', '120').status).toBe(0);
    const vdb = join(pool, 'cr-a', 'vdb.raw');
    writeFileSync(vdb, Buffer.from('MARKER-BEFORE-REIMAGE'), { flag: 'r+' });
    await killWhen(host!.spawnFlakevirt('reimage', '-f', spec), pattern);
    const r = host!.flakevirt('reimage', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cr-a\s+\d+\.\d+\.\d+\.\d+\s+reimaged, extra disks kept/);
    expect(readFileSync(vdb).subarray(0, 21).toString()).toBe('MARKER-BEFORE-REIMAGE');
    expect(readdirSync(join(pool, 'cr-a')).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it.each([
    ['after stopping the guest', /\] stopping/],
    ['after undefining it', /\] undefining/],
  ])('SIGKILL of down %s, then down again leaves nothing', async (_when, pattern) => {
    expect(host!.flakevirt('up', '-f', spec, '--timeout', '120').status).toBe(0);
    await killWhen(host!.spawnFlakevirt('down', '-f', spec), pattern);
    const r = host!.flakevirt('down', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
    expect(existsSync(join(pool, 'cr-a'))).toBe(false);
  });

  it('list and ips recover after libvirtd restarts under running guests', () => {
    expect(host!.flakevirt('up', '-f', spec, '--timeout', '120').status).toBe(0);
    const before = host!.flakevirt('ips', '-f', spec).stdout.trim();
    expect(before).toMatch(/^cr-a \d+\.\d+\.\d+\.\d+$/);
    execFileSync(join(REPO_ROOT, 'scripts', 'testhost.sh'), ['restart-libvirtd', 'crash'], { stdio: 'ignore' });
    const rows = JSON.parse(host!.flakevirt('list', '-f', spec, '--json').stdout);
    expect(rows).toMatchObject([{ name: 'cr-a', state: 'running' }]);
    expect(host!.flakevirt('ips', '-f', spec).stdout.trim()).toBe(before);
    expect(host!.flakevirt('up', '-f', spec).stdout).toMatch(/cr-a .*running and up to date/);
    expect(host!.flakevirt('down', '-f', spec).status).toBe(0);
  });

  it('two up runs at once end in one correct fleet', async () => {
    const [a, b] = await Promise.all([finish(host!.spawnFlakevirt('up', '-f', spec)), finish(host!.spawnFlakevirt('up', '-f', spec))]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const outcomes = [a.stdout, b.stdout].map((o) => /cr-a\s+\S+\s+(.*) \(/.exec(o)?.[1]);
    expect(outcomes.sort()).toEqual(['created', 'running and up to date']);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('cr-a');
    expect(readdirSync(join(pool, 'cr-a')).filter((f) => f.includes('partial'))).toEqual([]);
    expect(host!.flakevirt('down', '--all', '-f', spec).status).toBe(0);
  });
});
