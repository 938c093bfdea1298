// The virtio-blk bus: /dev/vdb … /dev/vdz (vda is the root disk), one serial per disk, discard and
// queues per disk.
import type { VirtioDisk } from '../../model.js';
import type { DiskBus } from '../bus.js';
import { udevValue as u } from '../../escape/udev.js';
import { virtioById } from '../../render/identity.js';
import { libvirtDisk } from '../libvirt-disk.js';

export const virtio: DiskBus<VirtioDisk> = {
  name: 'virtio',
  noun: 'a virtio-blk disk',
  setting: 'a virtio-blk setting',
  ownFields: ['discard', 'queues'],
  rank: 1,
  compare: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  describe: (d) => [...(!d.discard ? ['discard=off'] : []), ...(d.queues !== undefined ? [`queues=${d.queues}`] : [])],
  udevRule: (d) => `SUBSYSTEM=="block", KERNEL=="vd*", ENV{DEVTYPE}=="disk", ATTR{serial}=="${u(d.serial)}", SYMLINK+="flakevirt/${u(d.name)}"`,
  byId: (d) => virtioById(d.serial),
  qemuNeeds: (d) => (d.queues !== undefined ? [{ field: 'queues', device: 'virtio-blk-pci', props: ['num-queues'], why: 'virtio-blk queues need QEMU ≥ 2.7' }] : []),
  needsQemuArguments: () => false,
  fileInQemuArguments: () => false,
  kernelParams: () => [],
  domainOrder: 0,
  domain: (disks, _facts, fileOf) => ({
    disks: disks.map((d) => libvirtDisk(d, fileOf(d), { discard: d.discard ? 'unmap' : 'ignore', ...(d.queues !== undefined && { queues: d.queues }) })),
    controllers: [],
    qemuArgs: [],
  }),
  record: () => ({ nsid: null, controller: null, mdts: null, atomic: null, zoned: null }),
};
