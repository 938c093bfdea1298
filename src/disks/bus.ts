// What a disk bus is to flakevirt: everything that differs between NVMe and virtio-blk once a disk
// is in the model, behind one interface, one module per bus (disks/buses/), registered in BUSES.
// Adding a bus: a file in disks/buses/ implementing DiskBus, and its line in BUSES.
import type { Disk } from '../model.js';
import type { SpecIssue } from '../errors.js';
import type { RawDisk, RawStorage } from '../spec/schema.js';
import type { DiskRecord } from './records.js';
import type { HostFacts } from '../render/state.js';
import type { DomainController, DomainDisk } from '../libvirt-xml/domain.js';
import { nvme } from './buses/nvme.js';
import { virtio } from './buses/virtio.js';

/** A QEMU property a disk field needs, for the host capability check (capabilities.ts). */
export interface QemuNeed {
  field: string;
  device: 'nvme' | 'nvme-ns' | 'virtio-blk-pci';
  props: string[];
  why: string;
}

/** What one bus adds to a domain. */
export interface DomainPart {
  disks: DomainDisk[];
  controllers: DomainController[];
  qemuArgs: string[];
}

/** What a device name says about a disk: its bus and where it sits there ("/dev/nvme1n2": controller 1, namespace 2). */
export type DeviceRef =
  | { bus: 'nvme'; name: string; controller: number; nsid: number }
  | { bus: 'virtio'; name: string; index: number };

/** A disk declaration together with where it was written. */
export interface PlacedDisk<R extends DeviceRef = DeviceRef> {
  path: string;
  device: string;
  ref: R;
  decl: RawDisk | RawStorage;
}

/** The fields of a model disk every bus fills the same way (spec/normalize.ts makes them). */
export type CommonDisk = Pick<Disk, 'device' | 'name' | 'sizeBytes' | 'format' | 'logicalBlockSize' | 'physicalBlockSize' | 'mountPoint'>;

export interface DiskBus<D extends Disk = Disk, R extends DeviceRef = Extract<DeviceRef, { bus: D['bus'] }>> {
  readonly name: D['bus'];
  /** Device names of this bus, for messages ("/dev/vdb … /dev/vdz"). */
  readonly devices: string;
  /** Reads a device name of this bus; undefined when the name is not of this bus. */
  parseDevice(device: string): R | { error: string } | undefined;
  /** Rules over all of one guest's disks on this bus (`at`: the guest's path): numbering, controller-wide fields. */
  checkGuest(at: string, disks: Array<PlacedDisk<R>>): SpecIssue[];
  /** Rules for one disk of this bus (`base`: its path; `sizeBytes` when its size is valid). */
  checkDisk(base: string, d: PlacedDisk<R>, sizeBytes: number | undefined): SpecIssue[];
  /** The model disk from its declaration; `guest`: every disk declaration of the guest (controller-wide fields). */
  normalize(common: CommonDisk, ref: R, decl: RawDisk | RawStorage, guest: Array<{ ref: DeviceRef; decl: RawDisk | RawStorage }>): D;
  /** How a message names a disk on this bus ("an NVMe namespace", "a virtio-blk disk"). */
  readonly noun: string;
  /** How a message names a field of this bus ("an NVMe setting"). */
  readonly setting: string;
  /** Spec fields only this bus takes (rules refuse them on disks of another bus). */
  readonly ownFields: readonly string[];
  /** Where disks of this bus sort among the guest's disks (lower first), then compare(). */
  readonly rank: number;
  compare(a: D, b: D): number;
  /** The parts of the disk's one-line description (state fingerprint, `changed:` lines) this bus adds. */
  describe(d: D): string[];
  /** The udev rule line that links /dev/flakevirt/<name> to this disk, by serial (and namespace id). */
  udevRule(d: D): string;
  /** udev's stock by-id path for the disk. */
  byId(d: D): string;
  /** QEMU properties the disk's fields need; `first`: the first disk of its controller. */
  qemuNeeds(d: D, first: boolean): QemuNeed[];
  /** True when the disk's fields can only be given as QEMU arguments (not through libvirt's bus). */
  needsQemuArguments(d: D): boolean;
  /** True when, on a host with these facts, the disk's file is named only in QEMU arguments (libvirt then does not relabel it). */
  fileInQemuArguments(facts: HostFacts): boolean;
  /** Kernel command-line parameters a NixOS guest needs for this disk, with why. */
  kernelParams(d: D): Array<{ param: string; why: string[] }>;
  /**
   * Where this bus's disks go in the domain XML among other buses' (lower first): libvirt gives PCI
   * slots in document order, so an existing guest's devices keep their addresses only if this stays.
   */
  readonly domainOrder: number;
  /** This bus's disks of one guest, in the domain: <disk> and <controller> elements, or QEMU arguments. */
  domain(disks: D[], facts: HostFacts, fileOf: (d: D) => string): DomainPart;
  /**
   * Why a guest with a disk on this bus cannot have a checkpoint (its device model cannot save its
   * state into a snapshot), or undefined when it can.
   */
  readonly noCheckpoint: string | undefined;
  /** This bus's fields of the disk's record (`flakevirt disks`, flakevirt_disks). */
  record(d: D): Pick<DiskRecord, 'nsid' | 'controller' | 'mdts' | 'atomic' | 'zoned'>;
}

/** Every bus flakevirt knows, by the name the model uses. */
export const BUSES: { [B in Disk['bus']]: DiskBus<Extract<Disk, { bus: B }>> } = { nvme, virtio };

/** The bus of a disk. */
export function busOf<D extends Disk>(d: D): DiskBus<D> {
  return BUSES[d.bus] as unknown as DiskBus<D>;
}

/** The bus a device name is on, with where it sits there, or an error that names the fix. */
export function parseDevice(device: string): DeviceRef | { error: string } {
  if (device === '/dev/vda') return { error: '"/dev/vda" is the root disk; extra disks start at /dev/vdb (virtio) or /dev/nvme0n1 (NVMe)' };
  for (const bus of Object.values(BUSES) as DiskBus[]) {
    const ref = bus.parseDevice(device);
    if (ref) return ref;
  }
  return { error: `"${device}" is neither ${(Object.values(BUSES) as DiskBus[]).map((b) => `${b.noun} (${b.devices})`).join(' nor ')}` };
}

/** Every field that belongs to one bus only, with that bus. */
export function busOnlyFields(): Array<{ field: string; bus: DiskBus }> {
  return Object.values(BUSES).flatMap((b) => b.ownFields.map((field) => ({ field, bus: b as DiskBus })));
}
