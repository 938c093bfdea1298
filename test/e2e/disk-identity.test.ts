// Disk identity in a real guest: every declared disk at flakevirt's path (/dev/flakevirt/NAME, from
// the rule flakevirt renders) and at udev's by-id path, each pointing at the disk with the declared
// serial, namespace id and size — under Debian 12's systemd-udevd with its stock rules, with 2 vCPUs,
// 3 NVMe controllers (one with two namespaces) and 2 virtio disks, over 5 boots. The kernel's own
// names are not promised: Linux probes NVMe controllers and scans namespaces asynchronously.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('diskid');
const BOOTS = 5;
let spec = '';
let pool = '';

// name → what the guest must see there (serial, nsid, size in 512-byte sectors; distinct sizes).
const DISKS: Record<string, { serial: string; nsid?: number; sectors: number }> = {
  nvme0n1: { serial: 'fvnvme0', nsid: 1, sectors: (16 << 20) / 512 },
  nvme0n2: { serial: 'fvnvme0', nsid: 2, sectors: (24 << 20) / 512 },
  nvme1n1: { serial: 'fvnvme1', nsid: 1, sectors: (32 << 20) / 512 },
  nvme2n1: { serial: 'fvnvme2', nsid: 1, sectors: (40 << 20) / 512 },
  vdb: { serial: 'fv-vdb', sectors: (48 << 20) / 512 },
  vdc: { serial: 'fv-vdc', sectors: (56 << 20) / 512 },
};

interface Boot { disks: Map<string, Record<string, string>>; links: Map<string, string> }

function readBoot(): Boot {
  const log = readFileSync(join(pool, 'di', 'console.log'), 'utf8');
  const disks = new Map<string, Record<string, string>>();
  for (const m of log.matchAll(/^fv-disk: (.*)$/gm)) {
    const f = Object.fromEntries(m[1]!.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    disks.set(f.name!, f);
  }
  const links = new Map<string, string>();
  for (const m of log.matchAll(/^fv-link: (\S+) -> \/dev\/(\S+)$/gm)) links.set(m[1]!, m[2]!);
  return { disks, links };
}

describe.skipIf(skip)('disk identity in the guest over several boots', () => {
  beforeAll(() => {
    host!.up();
    const g = tinyGuest();
    spec = join(host!.scratch, 'flakevirt.yaml');
    pool = join(host!.scratch, 'pool');
    writeFileSync(spec, `pool: ${pool}
accel: tcg
guests:
  di:
    image: ${g.base}
    kernel: ${g.kernel}
    initrd: ${g.initrd}
    cmdline: console=ttyS0 quiet
    memory: 512MiB
    vcpus: 2
    diskSize: 1GiB
    disks:
      /dev/nvme0n1: { size: 16MiB }
      /dev/nvme0n2: { size: 24MiB }
      /dev/nvme1n1: { size: 32MiB }
      /dev/nvme2n1: { size: 40MiB }
      /dev/vdb: { size: 48MiB }
      /dev/vdc: { size: 56MiB }
`);
  });
  afterAll(() => host?.down());

  it(`every /dev/flakevirt and by-id path names the declared disk in each of ${BOOTS} boots`, () => {
    let moved = 0;
    const seen: string[] = [];
    for (let boot = 1; boot <= BOOTS; boot++) {
      const r = host!.flakevirt(boot === 1 ? 'up' : 'reimage', '-f', spec, '--timeout', '180');
      expect(r.status, r.stderr).toBe(0);
      const { disks, links } = readBoot();
      const names: string[] = [];
      for (const [name, want] of Object.entries(DISKS)) {
        const kernel = links.get(`/dev/flakevirt/${name}`);
        expect(kernel, `boot ${boot}: /dev/flakevirt/${name} missing; links: ${[...links].join(' ')}`).toBeDefined();
        const got = disks.get(kernel!)!;
        expect(got, `boot ${boot}: no sysfs line for ${kernel}`).toBeDefined();
        expect([got.serial, Number(got.size), ...(want.nsid ? [Number(got.nsid)] : [])], `boot ${boot}: /dev/flakevirt/${name} → ${kernel}`)
          .toEqual([want.serial, want.sectors, ...(want.nsid ? [want.nsid] : [])]);
        // Debian 12's stock by-id link points at the same disk.
        const byId = want.nsid ? `/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_${want.serial}_${want.nsid}` : `/dev/disk/by-id/virtio-${want.serial}`;
        expect(links.get(byId), `boot ${boot}: ${byId}`).toBe(kernel);
        names.push(`${name}=${kernel}`);
        if (kernel !== name) moved++;
      }
      seen.push(`boot ${boot}: ${names.join(' ')}`);
    }
    process.stderr.write(`disk identity: kernel names differed from the spec's for ${moved} of ${BOOTS * Object.keys(DISKS).length} disk-boots\n${seen.join('\n')}\n`);
  }, 30 * 60_000);
});
