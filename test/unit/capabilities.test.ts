// What a host's QEMU can provide: specs asking for more are refused before anything is created.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { checkCapabilities, needsCapabilities, parseDeviceHelp, parseQemuVersion, type QemuCaps } from '../../src/capabilities.js';
import { fleetFrom } from '../helpers/fixtures.js';
import { domainXml } from '../helpers/render.js';
import { hasCommand } from '../helpers/tools.js';

const fleet = fleetFrom(`guests:
  st:
    image: /b.qcow2
    disks:
      /dev/nvme0n1: { size: 256MiB, logicalBlockSize: 4096, atomic: { awun: 15, awupf: 15 } }
      /dev/nvme0n2: { size: 256MiB, nawupf: 7 }
      /dev/nvme1n1: { size: 256MiB, zoned: { zoneSize: 64MiB, zoneCapacity: 64MiB, maxOpen: 4, maxActive: 4 } }
      /dev/nvme2n1: { size: 64MiB, mdts: 5 }
      /dev/vdb: { size: 64MiB, logicalBlockSize: 4096, physicalBlockSize: 4096, queues: 2, discard: false }
`);

// The nvme/nvme-ns property names of a QEMU 7.2 (Debian bookworm): no atomic.* at all.
const QEMU_72: QemuCaps = {
  emulator: '/usr/bin/qemu-system-x86_64', version: '7.2.0',
  props: {
    nvme: ['addr', 'cmb_size_mb', 'drive', 'logical_block_size', 'mdts', 'max_ioqpairs', 'physical_block_size', 'serial', 'subsys', 'zoned.zasl'],
    'nvme-ns': ['drive', 'logical_block_size', 'nsid', 'physical_block_size', 'zoned', 'zoned.zone_size', 'zoned.zone_capacity', 'zoned.max_open', 'zoned.max_active'],
    'virtio-blk-pci': ['discard', 'num-queues', 'serial'],
  },
};

describe('QEMU capabilities', () => {
  it('rejects atomics on QEMU 7.2 naming the guest, disk, field, version and what is needed', () => {
    const issues = checkCapabilities(fleet.guests, QEMU_72);
    expect(issues.map((i) => i.path)).toEqual(['guests.st.disks./dev/nvme0n1.atomic.awun', 'guests.st.disks./dev/nvme0n1.atomic.awupf', 'guests.st.disks./dev/nvme0n2.nawupf']);
    expect(issues[1]!.message).toBe('this host\'s QEMU 7.2.0 (/usr/bin/qemu-system-x86_64) has no "atomic.awupf" on its nvme device; NVMe atomic write units on the controller need QEMU ≥ 9.2. Remove atomic.awupf from this disk or use a host with a newer QEMU');
    expect(issues[2]!.message).toMatch(/no "atomic.nawupf" on its nvme-ns device; namespace atomic write units .* need a QEMU newer than 10.0/);
  });

  it('needs nothing for a spec without version-dependent fields', () => {
    expect(needsCapabilities(fleetFrom('guests:\n  a: { image: /b.qcow2, disks: { /dev/nvme0n1: { size: 1GiB, logicalBlockSize: 4096 } } }\n').guests)).toBe(false);
  });

  it('parses -device help output and versions', () => {
    expect(parseDeviceHelp('nvme options:\n  atomic.awun=<uint16>   -  (default: 0)\n  mdts=<uint8>  -\n')).toEqual(['atomic.awun', 'mdts']);
    expect(parseQemuVersion('QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)')).toBe('10.0.2');
  });

  it.skipIf(!hasCommand('qemu-system-x86_64'))('reads this host\'s QEMU', async () => {
    const { qemuCaps } = await import('../../src/adapters/qemu-caps.js');
    const caps = await qemuCaps(execFileSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).trim());
    expect(caps.props['nvme-ns']).toContain('zoned.zone_size');
    expect(caps.props.nvme).toContain('mdts');
  });
});

describe('rendering the storage fields', () => {
  const xml = domainXml(fleet, 'st');
  it('puts atomics and mdts on the controller, zoned and NAWUPF on the namespace', () => {
    expect(xml).toContain('nvme,id=fv-nvme0,serial=fvnvme0,bus=fv-nvme0-port,addr=0x0,atomic.awun=15,atomic.awupf=15');
    expect(xml).toContain('nvme-ns,drive=fv-nvme0n2,bus=fv-nvme0,nsid=2,atomic.nawupf=7');
    expect(xml).toContain('nvme-ns,drive=fv-nvme1n1,bus=fv-nvme1,nsid=1,zoned=on,zoned.zone_size=67108864,zoned.zone_capacity=67108864,zoned.max_open=4,zoned.max_active=4');
    expect(xml).toContain('nvme,id=fv-nvme2,serial=fvnvme2,bus=fv-nvme2-port,addr=0x0,mdts=5');
  });
  it('sets virtio-blk queues and discard through libvirt', () => {
    expect(xml).toMatch(/<driver name="qemu" type="raw" cache="none" io="native" discard="ignore" queues="2"\/>\s*<source file="[^"]+\/vdb.raw"\/>/);
  });
});
