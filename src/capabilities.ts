// What the host's QEMU offers for NVMe and virtio-blk, and which declared disk fields need what.
// Pure: the help output comes in as text; the adapter runs the emulator and caches the result.
import type { SpecIssue } from './errors.js';
import type { Guest } from './model.js';

export interface QemuCaps {
  emulator: string;
  version: string;
  /** Property names per device: nvme, nvme-ns, virtio-blk-pci. */
  props: Record<string, string[]>;
}

/** Property names from `qemu-system-x86_64 -device NAME,help`. */
export function parseDeviceHelp(text: string): string[] {
  return text.split('\n').map((l) => /^\s+([A-Za-z0-9_.-]+)=/.exec(l)?.[1]).filter((p): p is string => !!p);
}

/** "QEMU emulator version 10.0.2 (Debian …)" → "10.0.2". */
export function parseQemuVersion(text: string): string {
  return /version (\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? 'unknown';
}

interface Need {
  field: string;
  device: 'nvme' | 'nvme-ns' | 'virtio-blk-pci';
  props: string[];
  why: string;
}

const ATOMIC_WHY = 'NVMe atomic write units on the controller need QEMU ≥ 9.2';
const NS_ATOMIC_WHY = 'namespace atomic write units (NAWUN/NAWUPF) need a QEMU newer than 10.0';

function needsOf(guest: Guest): Array<Need & { path: string }> {
  const out: Array<Need & { path: string }> = [];
  const controllersSeen = new Set<number>();
  for (const d of guest.disks) {
    const at = d.mountPoint ? `guests.${guest.name}.storage.${d.mountPoint}` : `guests.${guest.name}.disks.${d.device}`;
    const add = (n: Need) => out.push({ ...n, path: `${at}.${n.field}` });
    if (d.bus === 'nvme') {
      // mdts and atomic.* belong to the controller: check them once, on its first namespace.
      const first = !controllersSeen.has(d.controller);
      controllersSeen.add(d.controller);
      if (first && d.mdts !== undefined) add({ field: 'mdts', device: 'nvme', props: ['mdts'], why: 'mdts needs QEMU ≥ 5.1' });
      for (const k of ['awun', 'awupf', 'dn'] as const) if (first && d.atomic?.[k] !== undefined) add({ field: `atomic.${k}`, device: 'nvme', props: [`atomic.${k}`], why: ATOMIC_WHY });
      if (d.nawun !== undefined) add({ field: 'nawun', device: 'nvme-ns', props: ['atomic.nawun'], why: NS_ATOMIC_WHY });
      if (d.nawupf !== undefined) add({ field: 'nawupf', device: 'nvme-ns', props: ['atomic.nawupf'], why: NS_ATOMIC_WHY });
      if (d.zoned) {
        add({
          field: 'zoned', device: 'nvme-ns', why: 'zoned namespaces need QEMU ≥ 6.0',
          props: ['zoned', 'zoned.zone_size', ...(d.zoned.zoneCapacityBytes !== undefined ? ['zoned.zone_capacity'] : []), ...(d.zoned.maxOpen !== undefined ? ['zoned.max_open'] : []), ...(d.zoned.maxActive !== undefined ? ['zoned.max_active'] : [])],
        });
      }
    } else if (d.queues !== undefined) {
      add({ field: 'queues', device: 'virtio-blk-pci', props: ['num-queues'], why: 'virtio-blk queues need QEMU ≥ 2.7' });
    }
  }
  return out;
}

/** Every declared field this QEMU cannot provide, each naming the guest, disk, field, version and need. */
export function checkCapabilities(guests: Guest[], caps: QemuCaps): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const g of guests) {
    for (const n of needsOf(g)) {
      const have = caps.props[n.device] ?? [];
      const missing = n.props.filter((p) => !have.includes(p));
      if (missing.length) {
        issues.push({ path: n.path, message: `this host's QEMU ${caps.version} (${caps.emulator}) has no ${missing.map((m) => `"${m}"`).join(', ')} on its ${n.device} device; ${n.why}. Remove ${n.field} from this disk or use a host with a newer QEMU` });
      }
    }
  }
  return issues;
}

/** True when any chosen guest declares something that depends on the QEMU version. */
export function needsCapabilities(guests: Guest[]): boolean {
  return guests.some((g) => needsOf(g).length > 0);
}
