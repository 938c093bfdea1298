// The emulated NVMe bus: /dev/nvmeXnY is namespace Y of controller X; the serial is the
// controller's; mdts and atomics are controller-wide, namespace atomics and zones per namespace.
import type { NvmeDisk } from '../../model.js';
import type { DiskBus, QemuNeed } from '../bus.js';
import { udevValue as u } from '../../escape/udev.js';
import { nvmeById } from '../../render/identity.js';

const ATOMIC_WHY = 'NVMe atomic write units on the controller need QEMU ≥ 9.2';
const NS_ATOMIC_WHY = 'namespace atomic write units (NAWUN/NAWUPF) need a QEMU newer than 10.0';

export const nvme: DiskBus<NvmeDisk> = {
  name: 'nvme',
  noun: 'an NVMe namespace',
  setting: 'an NVMe setting',
  ownFields: ['mdts', 'atomic', 'nawun', 'nawupf', 'zoned'],
  rank: 0,
  compare: (a, b) => a.controller - b.controller || a.nsid - b.nsid,
  describe(d) {
    const parts: string[] = [];
    if (d.mdts !== undefined) parts.push(`mdts=${d.mdts}`);
    if (d.atomic) parts.push(`atomic=${JSON.stringify(d.atomic)}`);
    if (d.nawun !== undefined) parts.push(`nawun=${d.nawun}`);
    if (d.nawupf !== undefined) parts.push(`nawupf=${d.nawupf}`);
    if (d.zoned) parts.push(`zoned=${JSON.stringify(d.zoned)}`);
    return parts;
  },
  // udev ignores trailing whitespace of sysfs values (QEMU pads NVMe serials to 20 characters);
  // ATTRS{serial} is on the controller or subsystem above the namespace, nsid on the namespace
  // itself; the hidden multipath path devices (nvme0c0n1) are left out.
  udevRule: (d) => `SUBSYSTEM=="block", KERNEL=="nvme*n*", KERNEL!="nvme*c*n*", ENV{DEVTYPE}=="disk", ATTRS{serial}=="${u(d.serial)}", ATTR{nsid}=="${d.nsid}", SYMLINK+="flakevirt/${u(d.name)}"`,
  byId: (d) => nvmeById(d.serial, d.nsid),
  qemuNeeds(d, first) {
    const out: QemuNeed[] = [];
    // mdts and atomic.* belong to the controller: checked once, on its first namespace.
    if (first && d.mdts !== undefined) out.push({ field: 'mdts', device: 'nvme', props: ['mdts'], why: 'mdts needs QEMU ≥ 5.1' });
    for (const k of ['awun', 'awupf', 'dn'] as const) if (first && d.atomic?.[k] !== undefined) out.push({ field: `atomic.${k}`, device: 'nvme', props: [`atomic.${k}`], why: ATOMIC_WHY });
    if (d.nawun !== undefined) out.push({ field: 'nawun', device: 'nvme-ns', props: ['atomic.nawun'], why: NS_ATOMIC_WHY });
    if (d.nawupf !== undefined) out.push({ field: 'nawupf', device: 'nvme-ns', props: ['atomic.nawupf'], why: NS_ATOMIC_WHY });
    if (d.zoned) {
      out.push({
        field: 'zoned', device: 'nvme-ns', why: 'zoned namespaces need QEMU ≥ 6.0',
        props: ['zoned', 'zoned.zone_size', ...(d.zoned.zoneCapacityBytes !== undefined ? ['zoned.zone_capacity'] : []), ...(d.zoned.maxOpen !== undefined ? ['zoned.max_open'] : []), ...(d.zoned.maxActive !== undefined ? ['zoned.max_active'] : [])],
      });
    }
    return out;
  },
  needsQemuArguments: (d) => d.mdts !== undefined || !!d.atomic || d.nawun !== undefined || d.nawupf !== undefined || !!d.zoned,
  // Below libvirt 11.5 NVMe goes through <qemu:commandline>, which libvirt does not relabel.
  fileInQemuArguments: (facts) => facts.nvme === 'commandline',
  kernelParams: (d) => (d.atomic || d.nawun !== undefined || d.nawupf !== undefined ? [{
    param: 'nvme_core.multipath=N',
    why: [
      'Atomic-write limits show on the NVMe path device (nvme0c0n1) but not on the multipath head',
      '(nvme0n1) with native multipath on; turn it off so tests see them on /dev/nvmeXnY.',
    ],
  }] : []),
  record: (d) => ({
    nsid: d.nsid,
    controller: `nvme${d.controller}`,
    mdts: d.mdts ?? null,
    atomic: d.atomic || d.nawun !== undefined || d.nawupf !== undefined
      ? { ...d.atomic, ...(d.nawun !== undefined && { nawun: d.nawun }), ...(d.nawupf !== undefined && { nawupf: d.nawupf }) }
      : null,
    zoned: d.zoned ?? null,
  }),
};
