// The udev rule that gives each extra disk flakevirt's path in the guest (/dev/flakevirt/NAME),
// matched by serial (and NVMe namespace id), never by the kernel's probe-order name. Pure.
// Rendered into NixOS guests (services.udev.extraRules) and handed to every guest as the systemd
// credential flakevirt.udev-rules, so prebuilt images can install it; the tiny test guest does, under
// Debian's systemd-udevd.
import type { Guest } from '../model.js';
import { udevValue as u } from '../escape/udev.js';

/**
 * One rule per disk. udev ignores trailing whitespace of sysfs values (QEMU pads NVMe serials to 20
 * characters), ATTRS{serial} is found on the NVMe controller or subsystem above the namespace,
 * nsid is the namespace's own attribute, and the hidden multipath path devices (nvme0c0n1) are left
 * out so only the namespace device that I/O goes to is linked.
 */
export function udevRules(guest: Guest): string {
  const lines = guest.disks.map((d) => (d.bus === 'nvme'
    ? `SUBSYSTEM=="block", KERNEL=="nvme*n*", KERNEL!="nvme*c*n*", ENV{DEVTYPE}=="disk", ATTRS{serial}=="${u(d.serial)}", ATTR{nsid}=="${d.nsid}", SYMLINK+="flakevirt/${u(d.name)}"`
    : `SUBSYSTEM=="block", KERNEL=="vd*", ENV{DEVTYPE}=="disk", ATTR{serial}=="${u(d.serial)}", SYMLINK+="flakevirt/${u(d.name)}"`));
  return lines.length ? `# flakevirt: each extra disk at /dev/flakevirt/<spec name>, by serial (and namespace id)\n${lines.join('\n')}\n` : '';
}
