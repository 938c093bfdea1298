// virtiofs through flakevirt's typed domain XML on a real libvirtd (groundwork for imageless guests,
// issue 23): a guest flakevirt made gets a virtiofs share and shared memory added with
// libvirt-xml/domain.ts, libvirt 11.3 starts the host's virtiofsd for it (on bookworm the one
// scripts/install-virtiofsd.sh sets up), and the 6.12 kernel mounts the share by its tag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { buildDomain, parseDomain } from '../../src/libvirt-xml/domain.js';
import { findVirtiofsd } from '../../src/adapters/virtiofsd.js';

/** The host's virtiofsd, found where flakevirt looks (the distribution's, or scripts/install-virtiofsd.sh's wrapper). */
const found = await findVirtiofsd();
const virtiofsd = () => found;
const skip = e2eSkipReason() ?? (found ? undefined : 'no virtiofsd on this host (scripts/install-virtiofsd.sh installs one)');
if (skip && !e2eSkipReason()) process.stderr.write(`skipped: ${skip}\n`);
const host = skip ? undefined : new TestHost('vfs');
let spec = '';

describe.skipIf(skip)('virtiofs shares in the typed domain XML, on a real guest', () => {
  beforeAll(() => {
    host!.up();
    const g = tinyGuest();
    spec = join(host!.scratch, 'flakevirt.yaml');
    writeFileSync(spec, `pool: ${join(host!.scratch, 'pool')}
accel: tcg
guests:
  vfs-a: { memory: 256MiB, vcpus: 2, diskSize: 1GiB, image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet" }
`);
  });
  afterAll(() => host?.down());

  it('the guest mounts the share by its tag and reads what the host put there', async () => {
    const up = host!.flakevirt('up', '-f', spec, '--timeout', '180');
    expect(up.status, up.stderr).toBe(0);
    const share = join(host!.scratch, 'share');
    mkdirSync(share);
    chmodSync(share, 0o755);
    const token = randomBytes(8).toString('hex');
    writeFileSync(join(share, 'fv-probe'), `${token}\n`);
    // What libvirt printed for flakevirt's guest, with the share, shared memory and the tag on the
    // kernel command line added through the typed reader and builder.
    const d = parseDomain(host!.virsh('dumpxml', '--inactive', 'vfs-a'))!;
    d.memoryBacking = { source: 'memfd', access: 'shared' };
    d.devices.filesystems = [{ driver: 'virtiofs', queue: 1024, binary: virtiofsd()!, source: share, tag: 'store', readonly: false }];
    d.os.cmdline = `${d.os.cmdline ?? ''} fv.virtiofs=store`.trim();
    const file = join(host!.scratch, 'vfs-a.xml');
    writeFileSync(file, buildDomain(d));
    host!.virsh('destroy', 'vfs-a');
    host!.virsh('define', file);
    host!.virsh('start', 'vfs-a');
    const log = join(host!.scratch, 'pool', 'vfs-a', 'console.log');
    let seen = '';
    for (const end = Date.now() + 120_000; Date.now() < end && !/fv-virtiofs: store /.test(seen); await new Promise((r) => setTimeout(r, 500))) {
      seen = existsSync(log) ? readFileSync(log, 'utf8').split('fv: booted').at(-1)! : '';
    }
    expect(seen).toContain(`fv-virtiofs: store ${token}`);
    // flakevirt's mark survived the round trip: down still takes the guest and its files.
    const down = host!.flakevirt('down', '-f', spec, 'vfs-a');
    expect(down.status, down.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });
});
