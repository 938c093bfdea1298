// What a kind of host is to flakevirt: everything that differs between a libvirtd on this machine
// and one reached over a connection, behind one interface, one module per kind (local.ts,
// remote.ts). The kind is decided once, from the URI, when the Host is made (hosts.ts hostFor);
// code that depends on it asks kindOf(host) and never the URI again.
// Adding a kind: a module implementing HostKind, its member of the Host union (model.ts) and its
// line in kindOf. `paths` is pure (inventory and `disks` use it without I/O); the rest are adapters,
// loaded when called.
import type { Host } from '../model.js';
import type { GuestPaths } from '../render/paths.js';
import type { DomainView, Libvirt } from '../adapters/libvirt.js';
import type { GuestStore } from '../adapters/store.js';
import type { LeaseSource } from '../adapters/lease-source.js';
import type { QemuCaps } from '../capabilities.js';
import type { Network } from '../libvirt-xml/network.js';
import { local } from './local.js';
import { remote } from './remote.js';

export interface HostKind {
  readonly name: 'local' | 'remote';
  /** It can run imageless guests: their closure is in this machine's /nix/store, their kernel in its files. */
  readonly runsImageless: boolean;
  /** Where a guest's files are on a host of this kind. Pure. */
  paths(host: Host, guest: string): GuestPaths;
  /** The store that makes, reads and removes those files (`specPath` marks what it makes). */
  store(host: Host, lv: Libvirt, specPath: string, qemuLabel: string | undefined): Promise<GuestStore>;
  /** doctor: the fix when the host's libvirt cannot be reached. */
  connectFix(host: Host): string;
  /** doctor can probe KVM there (its probe reads the firmware's serial log as a file on this machine). */
  readonly probesKvm: boolean;
  /** doctor: the free space where the host keeps guests' disks (where: what was measured), or why it cannot be told yet. */
  poolSpace(host: Host, lv: Libvirt): Promise<{ freeBytes: number; where: string } | { notYet: string }>;
  /** Reads guests' console logs (a read command's, without the host facts a store needs). */
  consoleLog(host: Host, lv: Libvirt): Promise<Pick<GuestStore, 'readConsoleFrom'>>;
  /** A running network as libvirt keeps its live state (bridge, lease time), without a virsh call, when this machine can read it; else undefined. */
  liveNetwork(network: string): Promise<Network | undefined>;
  /**
   * Every domain from the daemon's own files, without the API's listing (which waits on a domain being
   * destroyed), when this machine can read them; else undefined and the caller asks libvirt.
   */
  stateDomains(host: Host): Promise<DomainView[] | undefined>;
  /** Where the network's DHCP leases are read from. */
  leases(lv: Libvirt, network: string, bridge: string): Promise<LeaseSource>;
  /** Refuses (before anything is defined) host files qemu could not read: base image, kernel, initrd. */
  preflight(files: string[], qemuLabel: string | undefined, guest: string): Promise<void>;
  /**
   * What identifies the host's daemon, emulators and KVM device from here, so its capabilities can be
   * kept between runs (a changed daemon or emulator is a new key); undefined when nothing can tell.
   */
  factsKey(host: Host): Promise<string | undefined>;
  /** The device properties of the emulator libvirt runs, when this machine can ask it (else undefined). */
  qemuCaps(emulator: string, host: Host): Promise<QemuCaps | undefined>;
  /** Guest directories a spec left on the host without a domain (found by `down --all`). */
  leftovers(host: Host, specPath: string): Promise<Array<{ name: string; dir: string }>>;
}

/** The kind of a host, as decided when it was made. */
export function kindOf(host: Pick<Host, 'local'>): HostKind {
  return host.local ? local : remote;
}
