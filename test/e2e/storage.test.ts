// Storage fidelity inside a real guest (QEMU 10 + the 6.12 tiny guest): every declared disk shows
// the geometry asked for — block sizes, atomic write units, mdts, two namespaces on one controller,
// a zoned namespace, a 4 KiB virtio-blk disk — read from the guest's sysfs via its console.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('stor');
let spec = '';
let pool = '';

const DISKS = `    disks:
      /dev/nvme0n1: { size: 256MiB, logicalBlockSize: 4096, atomic: { awun: 15, awupf: 15 } }
      /dev/nvme0n2: { size: 128MiB }
      /dev/nvme1n1: { size: 256MiB, zoned: { zoneSize: 64MiB, zoneCapacity: 64MiB, maxOpen: 4, maxActive: 4 } }
      /dev/nvme2n1: { size: 64MiB, mdts: 5 }
      /dev/vdb: { size: 64MiB, logicalBlockSize: 4096, physicalBlockSize: 4096 }`;

function writeSpec(file: string, disks: string): void {
  const g = tinyGuest();
  // nvme_core.multipath=N: what flakevirt renders into NixOS when atomics are declared, so the
  // atomic limits show on /dev/nvmeXnY itself (QEMU 10 subsystems make 6.12 use native multipath).
  writeFileSync(file, `pool: ${pool}
accel: tcg
guests:
  st:
    memory: 512MiB
    vcpus: 1
    image: ${g.base}
    kernel: ${g.kernel}
    initrd: ${g.initrd}
    cmdline: "console=ttyS0 quiet nvme_core.multipath=N"
${disks}
`);
}

type Rec = Record<string, string>;
/** The guest's "fv-disk:" lines, keyed by serial and namespace ("fvnvme0/1", "fv-vdb/-"). */
function guestDisks(): Map<string, Rec> {
  const out = new Map<string, Rec>();
  for (const line of readFileSync(join(pool, 'st', 'console.log'), 'utf8').split('\n')) {
    const m = /fv-disk: (.*)/.exec(line);
    if (!m) continue;
    const r = Object.fromEntries(m[1]!.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    out.set(`${r.serial}/${r.nsid}`, r);
  }
  return out;
}

describe.skipIf(skip)('storage fidelity inside a real guest', () => {
  beforeAll(() => {
    host!.up();
    pool = join(host!.scratch, 'pool');
    spec = join(host!.scratch, 'flakevirt.yaml');
    writeSpec(spec, DISKS);
  });
  afterAll(() => host?.down());

  it('a field this host\'s QEMU lacks is refused with exit 2 before anything is created', () => {
    const bad = join(host!.scratch, 'nawupf.yaml');
    writeSpec(bad, `    disks:\n      /dev/nvme0n1: { size: 64MiB, nawupf: 7 }`);
    const r = host!.flakevirt('up', '-f', bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/guests\.st\.disks\.\/dev\/nvme0n1\.nawupf: this host's QEMU \d+\.\d+\.\d+ \(\S+qemu-system-x86_64\) has no "atomic\.nawupf" on its nvme-ns device/);
    expect(existsSync(join(pool, 'st'))).toBe(false);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });

  it('every disk reaches the guest as declared', () => {
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    const d = guestDisks();
    // 4 KiB namespace with controller atomics: AWUPF 15 → (15 + 1) × 4096 bytes.
    expect(d.get('fvnvme0/1')).toMatchObject({ lbs: '4096', pbs: '4096', awu_min: '4096', awu_max: '65536', size: String((256 << 20) / 512) });
    // A second namespace on the same controller.
    expect(d.get('fvnvme0/2')).toMatchObject({ lbs: '512', size: String((128 << 20) / 512) });
    // Zoned: host-managed, zone size shows as chunk_sectors (64 MiB / 512).
    expect(d.get('fvnvme1/1')).toMatchObject({ zoned: 'host-managed', chunk: '131072' });
    // mdts 5 → 2^5 × 4 KiB = 128 KiB; the default (7) gives 512.
    expect(d.get('fvnvme2/1')).toMatchObject({ max_hw_kb: '128' });
    expect(d.get('fvnvme0/1')!.max_hw_kb).toBe('512');
    expect(d.get('fv-vdb/-')).toMatchObject({ lbs: '4096', pbs: '4096' });
  });

  it('disks --json describes each disk, and the inventory carries it as flakevirt_disks', () => {
    const rows = JSON.parse(host!.flakevirt('disks', '-f', spec, '--json').stdout) as Array<{ guest: string; disks: Array<Record<string, unknown>> }>;
    const disks = rows[0]!.disks;
    expect(disks.map((x) => x.device)).toEqual(['/dev/nvme0n1', '/dev/nvme0n2', '/dev/nvme1n1', '/dev/nvme2n1', '/dev/vdb']);
    expect(disks[0]).toMatchObject({ guestPath: '/dev/flakevirt/nvme0n1', byId: '/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_fvnvme0_1', bus: 'nvme', nsid: 1, controller: 'nvme0', logicalBlockSize: 4096, atomic: { awun: 15, awupf: 15 }, hostFile: join(pool, 'st', 'nvme0n1.raw') });
    expect(disks[2]).toMatchObject({ zoned: { zoneSizeBytes: 64 << 20, zoneCapacityBytes: 64 << 20, maxOpen: 4, maxActive: 4 } });
    const inv = JSON.parse(host!.flakevirt('inventory', '-f', spec, '--list').stdout);
    expect(inv._meta.hostvars.st.flakevirt_disks).toEqual(disks);
    if (hasCommand('ansible-inventory')) {
      const script = join(host!.scratch, 'inventory.sh');
      host!.flakevirt('inventory', '-f', spec, '--script', script);
      const seen = JSON.parse(host!.exec(['ansible-inventory', '-i', script, '--host', 'st']).stdout);
      expect(seen.flakevirt_disks[4]).toMatchObject({ device: '/dev/vdb', guestPath: '/dev/flakevirt/vdb', byId: '/dev/disk/by-id/virtio-fv-vdb', logicalBlockSize: 4096 });
    }
    expect(host!.flakevirt('down', '--all', '-f', spec).status).toBe(0);
  });
});
