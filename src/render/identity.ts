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
