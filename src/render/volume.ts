// Storage volumes on a remote host: their names (pure functions of guest, disk and content) and
// the volume XML libvirt creates them from.
import type { Disk } from '../model.js';
import type { GuestPaths } from './paths.js';
import { buildVolume } from '../libvirt-xml/storage.js';

/** The libvirt storage pool flakevirt creates and uses on remote hosts. */
export const POOL_NAME = 'flakevirt';

/** The pool's target directory without trailing slashes, as libvirt reports it. */
export function poolDir(target: string): string {
  return target.replace(/\/+$/, '');
}

/** A guest's volumes in the flat pool: "<guest>.root.qcow2", "<guest>.<disk>.<format>", "<guest>.console.log". */
export function volumePaths(target: string, guest: string): GuestPaths {
  const dir = poolDir(target);
  return {
    dir,
    root: `${dir}/${guest}.root.qcow2`,
    console: `${dir}/${guest}.console.log`,
    disk: (d: Pick<Disk, 'name' | 'format'>) => `${dir}/${guest}.${d.name}.${d.format}`,
  };
}

/** True when a volume name is one of the guest's (guest names cannot contain a dot). */
export function isGuestVolume(guest: string, volume: string): boolean {
  return volume.startsWith(`${guest}.`) && /^[a-z0-9-]+\.(root\.qcow2|console\.log|[a-z0-9]+\.(raw|qcow2))$/.test(volume);
}

export type BlobKind = 'base' | 'kernel' | 'initrd';

/** Content-addressed names: the same bytes get the same volume on every host. */
export function blobName(kind: BlobKind, contentId: string, format?: string): string {
  return `${kind}-${contentId}${format ? `.${format}` : ''}`;
}

export const BLOB = /^(base|kernel|initrd)-[0-9a-z]{32}(\.(raw|qcow2))?$/;

/** The empty volume whose presence says the blob's upload finished. */
export function completeMarker(blob: string): string {
  return `${blob}.complete`;
}

export interface VolumeSpec {
  name: string;
  capacityBytes: number;
  format: 'raw' | 'qcow2';
  /** Sparse (allocation 0) unless given. */
  allocationBytes?: number;
  owner?: { uid: number; gid: number };
  mode: string;
  backing?: { path: string; format: string };
}

export function renderVolume(v: VolumeSpec): string {
  return buildVolume({
    name: v.name, capacityBytes: v.capacityBytes, allocationBytes: v.allocationBytes ?? 0, format: v.format,
    permissions: { mode: v.mode, ...(v.owner && { owner: v.owner.uid, group: v.owner.gid }) },
    ...(v.backing && { backing: v.backing }),
  });
}
