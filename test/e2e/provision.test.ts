// up, list, ips, reimage, down against a real libvirtd with real TCG guests (the tiny Debian-kernel
// guest), inside a private network namespace. Runs as root; skips with a reason otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, statSync, existsSync, openSync, writeSync, readSync, closeSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { parseStatusFile } from '../../src/leases.js';
import { macFor } from '../../src/render/identity.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('prov');
let spec = '';
let pool = '';

function writeSpec(guestA: string, extra = ''): void {
  const g = tinyGuest();
  const boot = `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
  writeFileSync(spec, `pool: ${pool}
accel: tcg
defaults: { memory: 512MiB, vcpus: 1, diskSize: 1GiB }
guests:
  fv-a:
${boot.split(', ').map((kv) => `    ${kv}`).join('\n')}
${guestA}
  fv-b: { ${boot}, disks: { /dev/vdb: { size: 16MiB, format: qcow2 } } }
${extra}`);
}

const DISKS_A = `    disks:
      /dev/nvme0n1: { size: 64MiB, logicalBlockSize: 4096 }
      /dev/vdb: { size: 32MiB }`;

/** The "fv-disk:" lines the tiny guest prints, by device name. */
function consoleDisks(guest: string): Map<string, Record<string, string>> {
  const text = readFileSync(join(pool, guest, 'console.log'), 'utf8');
  const out = new Map<string, Record<string, string>>();
  for (const line of text.split('\n')) {
    const m = /fv-disk: (.*)/.exec(line);
    if (!m) continue;
    const rec = Object.fromEntries(m[1]!.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    out.set(rec.name!, rec);
  }
  return out;
}

function leasesNow() {
  return parseStatusFile(readFileSync(host!.libvirtState('dnsmasq', 'virbr0.status'), 'utf8'));
}

function resultLine(stdout: string, guest: string): string {
  return stdout.split('\n').find((l) => l.startsWith(`${guest} `)) ?? '';
}

describe.skipIf(skip)('provisioning on a real libvirtd', () => {
  beforeAll(() => {
    host!.up();
    spec = join(host!.scratch, 'flakevirt.yaml');
    pool = join(host!.scratch, 'pool');
    writeSpec(DISKS_A);
  });
  afterAll(() => host?.down());

  it('up brings both guests up concurrently, each with a fresh lease, NVMe and virtio disks visible in the guest', () => {
    const before = Math.floor(Date.now() / 1000);
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    const leases = leasesNow();
    for (const g of ['fv-a', 'fv-b']) {
      const ip = /^\S+\s+(\d+\.\d+\.\d+\.\d+)\s+created/.exec(resultLine(r.stdout, g))?.[1];
      expect(ip, r.stdout).toBeDefined();
      const lease = leases.find((l) => l.mac === macFor(g));
      expect(lease?.ip).toBe(ip);
      expect(lease!.expiry - 3600).toBeGreaterThanOrEqual(before);
    }
    // Concurrent: both started before either got its lease.
    const startA = /\[fv-a \+([\d.]+)s\] starting/.exec(r.stderr)?.[1];
    const leaseB = /\[fv-b \+([\d.]+)s\] lease/.exec(r.stderr)?.[1];
    expect(Number(startA)).toBeLessThan(Number(leaseB));
    const disks = consoleDisks('fv-a');
    expect(disks.get('nvme0n1')).toMatchObject({ serial: 'fvnvme0', lbs: '4096', pbs: '4096', nsid: '1', size: String((64 * 1024 * 1024) / 512) });
    expect(disks.get('vdb')).toMatchObject({ serial: 'fv-vdb', size: String((32 * 1024 * 1024) / 512) });
    expect(disks.get('vda')).toBeDefined();
    expect([...consoleDisks('fv-b').keys()].sort()).toEqual(['vda', 'vdb']);
    expect(consoleDisks('fv-b').get('vdb')).toMatchObject({ serial: 'fv-vdb', size: String((16 * 1024 * 1024) / 512) });
    expect(readFileSync(join(pool, 'fv-b', 'vdb.qcow2')).subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
    // NVMe backing files are named only in QEMU arguments: they must belong to qemu's user.
    expect(statSync(join(pool, 'fv-a', 'nvme0n1.raw')).uid).toBe(64055);
  });

  it('up starts a defined but inactive network, and names a missing one', () => {
    host!.virsh('destroy', 'fv-a');
    host!.virsh('destroy', 'fv-b');
    host!.virsh('net-destroy', 'default');
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(host!.virsh('net-info', 'default')).toMatch(/Active:\s+yes/);
    expect(r.stdout).toMatch(/^fv-a\s+\d+\.\d+\.\d+\.\d+\s+started/m);
    const other = join(host!.scratch, 'nonet.yaml');
    writeFileSync(other, readFileSync(spec, 'utf8').replace('accel: tcg', 'accel: tcg\nnetwork: lab'));
    const missing = host!.flakevirt('up', '-f', other);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/libvirt network "lab" is not defined on qemu:\/\/\/system; define it .* or set network: in the spec/);
  });

  it('up again is a no-op that says so and does not restart anything', () => {
    const ids = host!.virsh('domid', 'fv-a').trim();
    const r = host!.flakevirt('up', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(resultLine(r.stdout, 'fv-a')).toMatch(/running and up to date/);
    expect(resultLine(r.stdout, 'fv-b')).toMatch(/running and up to date/);
    expect(host!.virsh('domid', 'fv-a').trim()).toBe(ids);
  });

  it('a no-op up runs no program at all (host facts, image info and the network come from what is kept)', () => {
    // Wrappers that record each call and run the real program: the log says what flakevirt ran.
    const wrap = join(host!.scratch, 'wrap');
    const log = join(host!.scratch, 'wrap.log');
    mkdirSync(wrap, { recursive: true });
    writeFileSync(log, '');
    for (const tool of ['virsh', 'qemu-img', 'qemu-system-x86_64', 'nix', 'ssh']) {
      const real = execFileSync('sh', ['-c', `command -v ${tool} || echo /bin/false`], { encoding: 'utf8' }).trim();
      writeFileSync(join(wrap, tool), `#!/bin/sh\necho "${tool} $*" >> ${log}\nexec ${real} "$@"\n`, { mode: 0o755 });
    }
    const r = host!.flakevirtEnv({ PATH: `${wrap}:${process.env.PATH}` }, 'up', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(resultLine(r.stdout, 'fv-a')).toMatch(/running and up to date/);
    expect(readFileSync(log, 'utf8')).toBe('');
    // The wrappers do record what runs through that PATH.
    host!.exec(['env', `PATH=${wrap}:${process.env.PATH}`, 'virsh', '-q', '-c', 'qemu:///system', 'version']);
    expect(readFileSync(log, 'utf8')).toMatch(/^virsh -q -c qemu:\/\/\/system version$/m);
  });

  it('list and ips report the guests and their leased IPs', () => {
    const rows = JSON.parse(host!.flakevirt('status', '-f', spec, '--json').stdout) as Array<{ name: string; state: string; ip: string; disks: string[] }>;
    expect(rows.map((x) => [x.name, x.state])).toEqual([['fv-a', 'running'], ['fv-b', 'running']]);
    expect(rows[0]!.disks).toEqual(['/dev/nvme0n1', '/dev/vdb']);
    const ips = host!.flakevirt('ips', '-f', spec).stdout.trim().split('\n');
    const leases = leasesNow();
    expect(ips).toEqual(['fv-a', 'fv-b'].map((g) => `${g} ${leases.find((l) => l.mac === macFor(g))!.ip}`));
  });

  it('up on a guest restarted outside flakevirt waits for the new lease, not the stale one', () => {
    host!.virsh('destroy', 'fv-b');
    const stale = leasesNow().find((l) => l.mac === macFor('fv-b'))!;
    const r = host!.flakevirt('up', 'fv-b', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(resultLine(r.stdout, 'fv-b')).toMatch(/started/);
    const fresh = leasesNow().find((l) => l.mac === macFor('fv-b'))!;
    expect(fresh.expiry).toBeGreaterThan(stale.expiry);
    // The old lease was there all along; a naive check would have returned within a second.
    expect(r.ms).toBeGreaterThan(2000);
  });

  it('reimage gives a fresh root overlay and lease and keeps the extra disks', () => {
    const vdb = join(pool, 'fv-a', 'vdb.raw');
    const fd = openSync(vdb, 'r+');
    writeSync(fd, Buffer.from('FLAKEVIRT-MARKER'), 0, 16, 4096);
    closeSync(fd);
    const rootBefore = statSync(join(pool, 'fv-a', 'root.qcow2')).birthtimeMs;
    const leaseBefore = leasesNow().find((l) => l.mac === macFor('fv-a'))!;
    const r = host!.flakevirt('reimage', 'fv-a', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(resultLine(r.stdout, 'fv-a')).toMatch(/reimaged, extra disks kept/);
    expect(statSync(join(pool, 'fv-a', 'root.qcow2')).birthtimeMs).toBeGreaterThan(rootBefore); // a new file, not the old overlay
    expect(leasesNow().find((l) => l.mac === macFor('fv-a'))!.expiry).toBeGreaterThan(leaseBefore.expiry);
    const buf = Buffer.alloc(16);
    const fd2 = openSync(vdb, 'r');
    readSync(fd2, buf, 0, 16, 4096);
    closeSync(fd2);
    expect(buf.toString()).toBe('FLAKEVIRT-MARKER');
    expect(consoleDisks('fv-a').get('nvme0n1')).toBeDefined();
  });

  it('reimage --wipe-disks recreates the extra disks (leases polled through virsh, as for remote hosts)', () => {
    const r = host!.flakevirtEnv({ FLAKEVIRT_LEASE_SOURCE: 'virsh' }, 'reimage', 'fv-a', '--wipe-disks', '-f', spec);
    expect(r.stderr).toMatch(/waiting for a fresh DHCP lease on default \(virsh\)/);
    expect(r.status, r.stderr).toBe(0);
    const buf = Buffer.alloc(16);
    const fd = openSync(join(pool, 'fv-a', 'vdb.raw'), 'r');
    readSync(fd, buf, 0, 16, 4096);
    closeSync(fd);
    expect(buf.equals(Buffer.alloc(16))).toBe(true);
  });

  it('a changed guest is redefined and restarted, saying what changed; a changed disk is refused', () => {
    writeSpec(DISKS_A.replace('size: 32MiB', 'size: 48MiB'));
    const refused = host!.flakevirt('up', 'fv-a', '-f', spec);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/\/dev\/vdb changed in the spec \(disk \/dev\/vdb: virtio 32MiB raw serial=fv-vdb → virtio 48MiB raw serial=fv-vdb\).*reimage fv-a --wipe-disks/);
    writeSpec(`${DISKS_A}\n    memory: 640MiB`);
    const r = host!.flakevirt('up', 'fv-a', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fv-a .*redefined/);
    expect(r.stdout).toContain('changed: memory: 512MiB → 640MiB');
    expect(host!.virsh('dominfo', 'fv-a')).toMatch(/Max memory:\s+655360 KiB/);
    writeSpec(DISKS_A);
  });

  it('never touches a domain it does not own, and down --all leaves it alone', () => {
    const xml = join(host!.scratch, 'foreign.xml');
    writeFileSync(xml, "<domain type='qemu'><name>fv-foreign</name><memory unit='MiB'>64</memory><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>\n");
    host!.virsh('define', xml);
    const before = host!.virsh('dumpxml', 'fv-foreign');
    const spec2 = join(host!.scratch, 'foreign.yaml');
    writeFileSync(spec2, readFileSync(spec, 'utf8').replace('  fv-b:', '  fv-foreign:'));
    for (const cmd of [['up', 'fv-foreign'], ['down', 'fv-foreign'], ['reimage', 'fv-foreign']]) {
      const r = host!.flakevirt(...cmd, '-f', spec2);
      expect(r.status, cmd.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/"fv-foreign" exists but was not created by flakevirt/);
    }
    expect(existsSync(join(pool, 'fv-foreign'))).toBe(false);
    expect(host!.virsh('dumpxml', 'fv-foreign')).toBe(before);
  });

  it('times out with the guest named and its console tail when no lease comes', () => {
    // The guest boots, but without its network driver (a panic would fail at once: health.test.ts).
    writeSpec(DISKS_A, '  fv-dead: { image: BASE, kernel: KERNEL, initrd: INITRD, cmdline: "console=ttyS0 module_blacklist=virtio_net" }\n'
      .replace('BASE', tinyGuest().base).replace('KERNEL', tinyGuest().kernel).replace('INITRD', tinyGuest().initrd));
    const r = host!.flakevirt('up', 'fv-dead', '-f', spec, '--timeout', '30');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/fv-dead: no DHCP lease for MAC 52:54:00:[0-9a-f:]+ on network default within 30 s/);
    expect(r.stderr).toMatch(/last console lines[\s\S]*\| .*fv: /);
    expect(host!.flakevirt('down', 'fv-dead', '-f', spec).status).toBe(0);
    writeSpec(DISKS_A);
  });

  it('down removes the domains and every file flakevirt made; down again succeeds', () => {
    const r = host!.flakevirt('down', '--all', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').split('\n').filter(Boolean)).toEqual(['fv-foreign']);
    expect(existsSync(join(pool, 'fv-a'))).toBe(false);
    expect(existsSync(join(pool, 'fv-b'))).toBe(false);
    const again = host!.flakevirt('down', '-f', spec);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/fv-a .*already gone/);
  });
});
