// The udev rule that gives each extra disk flakevirt's path in the guest (/dev/flakevirt/NAME),
// matched by serial (and NVMe namespace id), never by the kernel's probe-order name. Pure.
// Rendered into NixOS guests (services.udev.extraRules) and handed to every guest as the systemd
// credential flakevirt.udev-rules, so prebuilt images can install it; the tiny test guest does, under
// Debian's systemd-udevd.
import type { Guest } from '../model.js';
import { busOf } from '../disks/bus.js';

/** One rule per disk, each from its bus (disks/buses/). */
export function udevRules(guest: Guest): string {
  const lines = guest.disks.map((d) => busOf(d).udevRule(d));
  return lines.length ? `# flakevirt: each extra disk at /dev/flakevirt/<spec name>, by serial (and namespace id)\n${lines.join('\n')}\n` : '';
}
