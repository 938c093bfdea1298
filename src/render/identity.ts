// Stable per-guest identities: MAC addresses and disk serials derived from names.
import { createHash } from 'node:crypto';

/** A MAC in libvirt's 52:54:00 range, derived from the guest name (same name, same MAC, every run). */
export function macFor(guest: string): string {
  const h = createHash('sha256').update(`flakevirt-mac:${guest}`).digest();
  return ['52', '54', '00', ...[h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Default serial of an NVMe controller ("fvnvme0"): shared by its namespaces, unique within the guest. */
export function nvmeSerial(controller: number): string {
  return `fvnvme${controller}`;
}

/** Default serial of a virtio-blk disk ("fv-vdb"). */
export function virtioSerial(name: string): string {
  return `fv-${name}`;
}

/** udev's by-id link for an NVMe namespace: model "QEMU NVMe Ctrl" with spaces replaced, serial, nsid. */
export function nvmeById(serial: string, nsid: number): string {
  return `/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_${serial}_${nsid}`;
}

/** udev's by-id link for a virtio-blk disk with a serial. */
export function virtioById(serial: string): string {
  return `/dev/disk/by-id/virtio-${serial}`;
}

/**
 * flakevirt's own path for a disk inside the guest: /dev/flakevirt/nvme0n1, /dev/flakevirt/vdb. A udev
 * rule flakevirt renders (render/udev.ts) links it to the disk with that serial (and namespace id),
 * whatever name the kernel gave it: NVMe controllers and namespaces are probed asynchronously, so
 * kernel names move between boots. It also avoids nixos-flake's storage unit names going wrong for
 * by-id paths (their "-" becomes "\x2d", which a store path name cannot hold).
 */
export function guestPathFor(name: string): string {
  return `/dev/flakevirt/${name}`;
}

/** A stable domain UUID from the guest name: redefining a domain needs the UUID it was defined with. */
export function uuidFor(guest: string): string {
  const h = createHash('sha256').update(`flakevirt-uuid:${guest}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 layout (name-based, SHA)
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
