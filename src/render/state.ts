// What a guest's domain is made of, as a flat record: hashed into the ownership fingerprint and
// compared field by field to say what changed between the defined domain and the spec.
import { createHash } from 'node:crypto';
import type { Disk, Fleet, Guest } from '../model.js';
import { formatSize } from '../spec/units.js';
import { busOf } from '../disks/bus.js';

/** What a libvirt host offers (read by adapters/host-facts.ts). */
export interface HostInfo {
  kvm: boolean;
  /** libvirt has an NVMe disk bus of its own (≥ 11.5). */
  nativeNvme: boolean;
  /** "+64055:+64055" from `virsh capabilities`, when the DAC driver is on. */
  qemuLabel?: string;
  /** The emulator binary libvirt runs (domcapabilities <path>). */
  emulator?: string;
}

/** The facts one guest's XML is rendered with. Native NVMe only when no disk needs QEMU arguments. */
export function factsFor(info: HostInfo, guest: Pick<Guest, 'accel' | 'disks'>): HostFacts {
  const domainType = guest.accel === 'tcg' ? 'qemu' : guest.accel === 'kvm' ? 'kvm' : info.kvm ? 'kvm' : 'qemu';
  const needsQemuArguments = guest.disks.some((d) => busOf(d).needsQemuArguments(d));
  return { domainType, nvme: info.nativeNvme && !needsQemuArguments ? 'native' : 'commandline', ...(info.qemuLabel && { qemuLabel: info.qemuLabel }) };
}

/** Facts about the host that shape the XML (resolved by the libvirt adapter, passed in). */
export interface HostFacts {
  domainType: 'kvm' | 'qemu';
  /** How NVMe disks are attached: libvirt's own bus (≥ 11.5) or QEMU arguments. */
  nvme: 'native' | 'commandline';
  /** DAC user:group qemu runs as ("+64055:+64055"), for the files named only in QEMU arguments. */
  qemuLabel?: string;
}

/** The base image the root overlay sits on: its path and a content identity (store path or hash). */
export interface BaseImage {
  path: string;
  id: string;
  /** The Nix store path holding the image, when Nix built it (kept alive by a GC root). */
  storePath?: string;
}

/** What an imageless guest's closure boots with: its boot.json's init and initrd, and the kernel parameters NixOS collected. */
export interface ClosureBoot {
  init: string;
  initrd: string;
  kernelParams: string[];
}

/** What an imageless guest boots, as the host sees it: the developer's kernel and the closure's boot. */
export interface ImagelessBoot {
  bzImage: string;
  release: string;
  /** The directory the modules share serves (it holds <release>/). */
  modules: string;
  /** Content identity of the bzImage and its modules. */
  kernelId: string;
  closure: ClosureBoot;
  /** The virtiofsd libvirt runs for the shares (<binary path>); libvirt's own choice without it. */
  virtiofsd?: string;
}

export type GuestState = Record<string, string>;

export function guestState(fleet: Fleet, guest: Guest, base: BaseImage, host: HostFacts, templateText: string, imageless?: ImagelessBoot): GuestState {
  const state: GuestState = {
    type: host.domainType,
    memory: formatSize(guest.memoryBytes),
    vcpus: String(guest.vcpus),
    network: fleet.network,
    mac: guest.mac,
    base: base.id,
    ...(imageless ? {
      // "kernel: 6.13.0-rc1+ (…) → 6.13.0-rc2+ (…)" when the kernel build changed, by content.
      kernel: `${imageless.release} (${imageless.kernelId})`,
      modules: imageless.modules,
      ...(imageless.virtiofsd && { virtiofsd: imageless.virtiofsd }),
    } : { rootSize: formatSize(guest.diskSizeBytes) }),
    template: sha256(templateText).slice(0, 16),
    nvme: host.nvme,
  };
  // The login the SMBIOS credentials carry (user and keys): a change reaches the guest only on a new boot.
  if (fleet.sshKeys.length) state.login = `${fleet.user}, ${fleet.sshKeys.length} key(s) ${sha256(fleet.sshKeys.join('\n')).slice(0, 12)}`;
  for (const k of ['kernel', 'initrd', 'cmdline'] as const) if (guest.boot[k] !== undefined) state[k] = guest.boot[k]!;
  for (const d of guest.disks) state[`disk ${d.device}`] = describeDisk(d);
  return state;
}

/** One line per disk, e.g. "nvme 20GiB raw lbs=4096 serial=fvnvme0". */
export function describeDisk(d: Disk): string {
  const parts: string[] = [d.bus, formatSize(d.sizeBytes), d.format];
  if (d.logicalBlockSize) parts.push(`lbs=${d.logicalBlockSize}`);
  if (d.physicalBlockSize) parts.push(`pbs=${d.physicalBlockSize}`);
  parts.push(`serial=${d.serial}`, ...busOf(d).describe(d));
  return parts.join(' ');
}

export function fingerprint(state: GuestState): string {
  return sha256(JSON.stringify(Object.entries(state).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Human-readable differences, e.g. ["memory: 1GiB → 2GiB", "disk /dev/vdc: added"]. */
export function diffState(before: GuestState, after: GuestState): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((k) => {
    const a = before[k];
    const b = after[k];
    if (a === b) return [];
    if (a === undefined) return [`${k}: added (${b})`];
    if (b === undefined) return [`${k}: removed (was ${a})`];
    return [`${k}: ${a} → ${b}`];
  });
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
