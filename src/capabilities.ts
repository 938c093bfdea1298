// What the host's QEMU offers for NVMe and virtio-blk, and which declared disk fields need what.
// Pure: the help output comes in as text; the adapter runs the emulator and caches the result.
import type { SpecIssue } from './errors.js';
import type { Guest } from './model.js';
import { busOf, type QemuNeed } from './disks/bus.js';

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

type Need = QemuNeed;

function needsOf(guest: Guest): Array<Need & { path: string }> {
  const out: Array<Need & { path: string }> = [];
  const controllersSeen = new Set<string>();
  for (const d of guest.disks) {
    const at = d.mountPoint ? `guests.${guest.name}.storage.${d.mountPoint}` : `guests.${guest.name}.disks.${d.device}`;
    const controller = busOf(d).record(d).controller ?? d.name;
    const first = !controllersSeen.has(controller);
    controllersSeen.add(controller);
    for (const n of busOf(d).qemuNeeds(d, first)) out.push({ ...n, path: `${at}.${n.field}` });
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
