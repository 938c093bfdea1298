// The virtio-blk bus: /dev/vdb … /dev/vdz (vda is the root disk), one serial per disk, discard and
// queues per disk.
import type { VirtioDisk } from '../../model.js';
import type { DiskBus } from '../bus.js';
import type { SpecIssue } from '../../errors.js';
import { firstGap } from '../numbering.js';
import { guestPathFor, virtioSerial } from '../../render/identity.js';
import { udevValue as u } from '../../escape/udev.js';
import { virtioById } from '../../render/identity.js';
import { libvirtDisk } from '../libvirt-disk.js';

export const virtio: DiskBus<VirtioDisk> = {
  name: 'virtio',
  noun: 'a virtio-blk disk',
  devices: '/dev/vdb … /dev/vdz',
  parseDevice(device) {
    const m = /^\/dev\/vd([b-z])$/.exec(device);
    return m ? { bus: 'virtio', name: device.slice(5), index: m[1]!.charCodeAt(0) - 'a'.charCodeAt(0) } : undefined;
  },
  checkGuest(at, disks) {
    const gap = disks.length ? firstGap(disks.map((d) => d.ref.index), 1) : undefined;
    return gap === undefined ? [] : [{ path: at, message: `virtio-blk disks must be named without gaps from /dev/vdb: /dev/vd${String.fromCharCode(97 + gap)} is missing (the guest names virtio disks in order, so a gap shifts every later name)` }];
  },
  checkDisk(base, d) {
    const { logicalBlockSize: lbs, physicalBlockSize: pbs } = d.decl;
    const issues: SpecIssue[] = [];
    if (lbs !== undefined && pbs !== undefined && pbs < lbs) issues.push({ path: `${base}.physicalBlockSize`, message: `physicalBlockSize (${pbs}) must be at least logicalBlockSize (${lbs})` });
    return issues;
  },
  normalize(common, ref, decl) {
    const serial = decl.serial ?? virtioSerial(ref.name);
    return { ...common, bus: 'virtio', serial, byId: virtioById(serial), guestPath: guestPathFor(ref.name), discard: decl.discard ?? true, ...(decl.queues !== undefined && { queues: decl.queues }) };
  },
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
  noCheckpoint: undefined,
  domain: (disks, _facts, fileOf) => ({
    disks: disks.map((d) => libvirtDisk(d, fileOf(d), { discard: d.discard ? 'unmap' : 'ignore', ...(d.queues !== undefined && { queues: d.queues }) })),
    controllers: [],
    qemuArgs: [],
  }),
  record: () => ({ nsid: null, controller: null, mdts: null, atomic: null, zoned: null }),
};
