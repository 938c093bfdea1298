// Guest device names: which bus a device is on and where it sits, from its name alone.

export type DeviceRef =
  | { bus: 'nvme'; name: string; controller: number; nsid: number }
  | { bus: 'virtio'; name: string; index: number };

/** Highest NVMe controller index: each gets its own pcie-root-port at pcie.0 slot 0x10 + index. */
export const MAX_NVME_CONTROLLERS = 16;
/** Highest namespace id per controller that flakevirt lays out. */
export const MAX_NVME_NAMESPACES = 32;

/** Parses "/dev/nvme0n1" or "/dev/vdb"; returns the reference or an error that names the fix. */
export function parseDevice(device: string): DeviceRef | { error: string } {
  if (device === '/dev/vda') return { error: '"/dev/vda" is the root disk; extra disks start at /dev/vdb (virtio) or /dev/nvme0n1 (NVMe)' };
  const nvme = /^\/dev\/nvme(0|[1-9]\d?)n([1-9]\d?)$/.exec(device);
  if (nvme) {
    const controller = Number(nvme[1]);
    const nsid = Number(nvme[2]);
    if (controller >= MAX_NVME_CONTROLLERS) return { error: `"${device}": at most ${MAX_NVME_CONTROLLERS} NVMe controllers (nvme0 … nvme${MAX_NVME_CONTROLLERS - 1})` };
    if (nsid > MAX_NVME_NAMESPACES) return { error: `"${device}": at most ${MAX_NVME_NAMESPACES} namespaces per controller` };
    return { bus: 'nvme', name: device.slice(5), controller, nsid };
  }
  const vd = /^\/dev\/vd([b-z])$/.exec(device);
  if (vd) return { bus: 'virtio', name: device.slice(5), index: vd[1]!.charCodeAt(0) - 'a'.charCodeAt(0) };
  return { error: `"${device}" is neither an NVMe namespace (/dev/nvme0n1, /dev/nvme1n1, …) nor a virtio-blk disk (/dev/vdb … /dev/vdz)` };
}

/** Names the first gap in a set of numbers that must run from `first` without holes, or undefined. */
export function firstGap(numbers: number[], first: number): number | undefined {
  const set = new Set(numbers);
  const max = Math.max(...numbers);
  for (let n = first; n <= max; n++) if (!set.has(n)) return n;
  return undefined;
}
