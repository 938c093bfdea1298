// Each extra disk as a record: where it is in the guest, on the host, and its declared geometry.
// Pure; shown by `flakevirt disks` and carried in the inventory as flakevirt_disks.
import type { Guest } from '../model.js';
import type { GuestPaths } from '../render/paths.js';
import { busOf } from './bus.js';

export interface DiskRecord {
  device: string;
  /** flakevirt's path in the guest (/dev/flakevirt/NAME): use this one. */
  guestPath: string;
  byId: string;
  bus: 'nvme' | 'virtio';
  serial: string;
  /** NVMe namespace id, or null for virtio-blk. */
  nsid: number | null;
  controller: string | null;
  hostFile: string;
  format: string;
  sizeBytes: number;
  logicalBlockSize: number;
  physicalBlockSize: number;
  mountPoint: string | null;
  fsType: string | null;
  mdts: number | null;
  atomic: { awun?: number; awupf?: number; dn?: boolean; nawun?: number; nawupf?: number } | null;
  zoned: { zoneSizeBytes: number; zoneCapacityBytes?: number; maxOpen?: number; maxActive?: number } | null;
}

/** `paths`: where the guest's files are on its host (its host kind's paths(), host-kinds/). */
export function diskRecords(guest: Guest, paths: GuestPaths): DiskRecord[] {
  return guest.disks.map((d) => {
    const mount = guest.mounts.find((m) => m.mountPoint === d.mountPoint);
    return {
      device: d.device,
      guestPath: d.guestPath,
      byId: d.byId,
      bus: d.bus,
      serial: d.serial,
      ...busOf(d).record(d),
      hostFile: paths.disk(d),
      format: d.format,
      sizeBytes: d.sizeBytes,
      logicalBlockSize: d.logicalBlockSize ?? 512,
      physicalBlockSize: d.physicalBlockSize ?? d.logicalBlockSize ?? 512,
      mountPoint: d.mountPoint ?? null,
      fsType: mount?.fsType ?? null,
    };
  });
}
