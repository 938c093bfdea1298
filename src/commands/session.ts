// A command's connection to one libvirt host: the spec, libvirt, host facts, network, leases and
// where the host keeps guest disks (files locally, storage volumes remotely).
import { stat } from 'node:fs/promises';
import { ToolError, SpecError, type SpecIssue } from '../errors.js';
import type { Fleet, Guest, Host } from '../model.js';
import { Libvirt } from '../adapters/libvirt.js';
import { readHostInfo } from '../adapters/host-facts.js';
import type { LeaseSource } from '../adapters/lease-source.js';
import { kindOf } from '../host-kinds/kind.js';
import { imageInfo, type ImageInfo } from '../adapters/disks.js';
import { readTemplate } from '../adapters/templates.js';
import type { GuestStore, Report } from '../adapters/store.js';
import { DEFAULT_LEASE_SECONDS, leaseTimeOf } from '../leases.js';
import { desiredGuest } from '../render/guest.js';
import type { GuestPaths } from '../render/paths.js';
import { factsFor, type BaseImage, type ClosureBoot, type HostFacts, type HostInfo } from '../render/state.js';
import type { KernelSource } from '../model.js';
import type { Desired } from '../plan.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export interface NetworkInfo {
  name: string;
  bridge: string;
  /** The network's DHCP lease time in seconds (read from its XML on first use). */
  leaseTime(): Promise<number>;
  leases: LeaseSource;
}

export interface GuestTarget {
  guest: Guest;
  paths: GuestPaths;
  facts: HostFacts;
  base: BaseImage;
  /** The base image's format and size; undefined for an imageless guest (no root disk). */
  baseInfo?: ImageInfo;
  xml: string;
  desired: Desired;
}

export class Session {
  private hostInfo?: Promise<HostInfo>;
  private networks = new Map<string, Promise<NetworkInfo>>();
  private images = new Map<string, Promise<ImageInfo>>();
  private guestStore?: Promise<GuestStore>;

  /** Nix-built images and closures (or the error that stopped them), by guest, set before targets are made. */
  readonly built = new Map<string, { base: BaseImage; closure?: ClosureBoot } | Error>();

  private constructor(readonly lv: Libvirt, readonly fleet: Fleet | undefined, readonly host: Host) {}

  static async open(host: Host, fleet?: Fleet): Promise<Session> {
    return new Session(await Libvirt.open(host.connect), fleet, host);
  }

  close(): Promise<void> {
    return this.lv.close();
  }

  info(): Promise<HostInfo> {
    return (this.hostInfo ??= kindOf(this.host).factsKey(this.host).then((key) => readHostInfo(this.lv, key)));
  }

  /** The host kind's store: files in a directory locally, volumes of the pool "flakevirt" remotely. */
  store(): Promise<GuestStore> {
    return (this.guestStore ??= (async () => kindOf(this.host).store(this.host, this.lv, this.fleet?.specPath ?? '', (await this.info()).qemuLabel))());
  }

  /** What `up` and `reimage` need before any guest: the network running, the pool usable. */
  async prepare(): Promise<void> {
    const net = this.network(this.fleet!.network, { ensureActive: true });
    net.catch(() => undefined);
    await (await this.store()).ready();
    await net;
  }

  /** The network with its bridge and lease source; starts it when `ensureActive` and it is down. */
  network(name: string, { ensureActive = false } = {}): Promise<NetworkInfo> {
    let p = this.networks.get(name);
    if (!p) {
      p = (async () => {
        // The bridge and lease time the cheap way when the host kind has them (a local network's
        // live status file, which exists while it runs); otherwise virsh, which can also start it.
        const live = await kindOf(this.host).liveNetwork(name);
        let info = live ? { exists: true, active: true, bridge: live.bridge! } : await this.lv.virsh.networkInfo(name);
        if (!info.exists) {
          throw new ToolError({ message: `libvirt network "${name}" is not defined on ${this.lv.uri}; define it (virsh net-define /usr/share/libvirt/networks/default.xml) or set network: in the spec`, command: `virsh net-info ${name}` });
        }
        if (!info.active && ensureActive) {
          await this.lv.virsh.networkStart(name);
          info = await this.lv.virsh.networkInfo(name);
        }
        let leaseTime: Promise<number> | undefined;
        return {
          name,
          bridge: info.bridge,
          leaseTime: () => (leaseTime ??= live ? Promise.resolve(live.leaseSeconds ?? DEFAULT_LEASE_SECONDS) : this.lv.virsh.networkXml(name).then(leaseTimeOf)),
          leases: await kindOf(this.host).leases(this.lv, name, info.bridge),
        };
      })();
      this.networks.set(name, p);
    }
    return p;
  }

  private image(path: string): Promise<ImageInfo> {
    let p = this.images.get(path);
    if (!p) this.images.set(path, (p = imageInfo(path)));
    return p;
  }

  /** What is wrong with a prebuilt guest's base image (read only; Nix-built images are checked when built). */
  async imageIssues(guest: Guest): Promise<SpecIssue[]> {
    const prebuilt = bootKindOf(guest.boot).image(guest.boot);
    if (prebuilt === undefined) return [];
    return backingIssues(guest, prebuilt, await this.image(prebuilt));
  }

  /** Everything `up`/`reimage` needs for a guest: rendered XML, base image (on the host), files. */
  async target(guest: Guest, report: Report): Promise<GuestTarget> {
    const own = bootKindOf(guest.boot).ownKernel(guest.boot);
    if (own) return imagelessTarget(this, guest, own, report);
    const fleet = this.fleet!;
    let image: BaseImage;
    const prebuilt = bootKindOf(guest.boot).image(guest.boot);
    if (prebuilt !== undefined) {
      const st = await stat(prebuilt);
      image = { path: prebuilt, id: `file:${prebuilt}:${st.size}:${Math.floor(st.mtimeMs)}` };
    } else {
      const built = this.built.get(guest.name);
      if (!built) throw new Error(`internal: ${guest.name} was not built`);
      if (built instanceof Error) throw built;
      image = built.base;
    }
    const baseInfo = await this.image(image.path);
    const issues = backingIssues(guest, image.path, baseInfo);
    if (issues.length) throw new SpecError(issues, `cannot use ${image.path}`);
    const info = await this.info();
    await kindOf(this.host).preflight([image.path, ...(guest.boot.kernel ? [guest.boot.kernel] : []), ...(guest.boot.initrd ? [guest.boot.initrd] : [])], info.qemuLabel, guest.name);
    // The base, kernel and initrd as the host sees them (uploaded once per host when remote).
    const store = await this.store();
    const [basePath, kernel, initrd] = await Promise.all([
      store.provide(image.path, 'base', baseInfo.format, report),
      guest.boot.kernel ? store.provide(guest.boot.kernel, 'kernel', undefined, report) : undefined,
      guest.boot.initrd ? store.provide(guest.boot.initrd, 'initrd', undefined, report) : undefined,
    ]);
    const base: BaseImage = { ...image, path: basePath };
    const onHost: Guest = { ...guest, boot: { ...guest.boot, ...(kernel && { kernel }), ...(initrd && { initrd }) } };
    const facts = factsFor(info, guest);
    const paths = store.paths(guest.name);
    const { xml, desired } = desiredGuest({ fleet, guest: onHost, facts, base, paths, templateText: await readTemplate(guest.template) });
    return { guest, paths, facts, base, baseInfo, xml, desired };
  }
}

/** Why a host cannot run imageless guests (refused with exit 2 before anything is defined), or the virtiofsd it runs them with. */
export async function imagelessHostProblem(host: Host): Promise<{ problem: string } | { virtiofsd: string }> {
  const { findVirtiofsd, VIRTIOFSD_FIX } = await import('../adapters/virtiofsd.js');
  if (!kindOf(host).runsImageless) return { problem: `imageless guests run only on a libvirt host on this machine (the closure is in its /nix/store), not on ${host.name}` };
  const virtiofsd = await findVirtiofsd();
  return virtiofsd ? { virtiofsd } : { problem: `this host has no virtiofsd, which shares /nix/store and the kernel's modules with imageless guests; ${VIRTIOFSD_FIX}` };
}

/** An imageless guest's target: its closure (built before), its kernel (a tree's modules installed), the shares. */
async function imagelessTarget(s: Session, guest: Guest, own: KernelSource, report: Report): Promise<GuestTarget> {
  const fleet = s.fleet!;
  const built = s.built.get(guest.name);
  if (!built) throw new Error(`internal: ${guest.name} was not built`);
  if (built instanceof Error) throw built;
  if (!built.closure) throw new Error(`internal: ${guest.name}'s build has no boot.json`);
  const host = await imagelessHostProblem(s.host);
  if ('problem' in host) throw new SpecError([{ path: `guests.${guest.name}`, message: host.problem }], `${guest.name} cannot run here`);
  const { resolveKernel } = await import('../adapters/kernel.js');
  const kernel = await resolveKernel(own, `${s.host.pool.replace(/\/+$/, '')}/.kernels`, report);
  const info = await s.info();
  await kindOf(s.host).preflight([kernel.bzImage, built.closure.initrd], info.qemuLabel, guest.name);
  // The closure stays alive against nix-collect-garbage while a guest boots from it.
  const store = await s.store();
  await store.provide(built.base.path, 'base', undefined, report);
  const facts = factsFor(info, guest);
  const paths = store.paths(guest.name);
  const imageless = { bzImage: kernel.bzImage, release: kernel.release, modules: kernel.modules, kernelId: kernel.id, closure: built.closure, virtiofsd: host.virtiofsd };
  const { xml, desired } = desiredGuest({ fleet, guest, facts, base: built.base, paths, templateText: await readTemplate(guest.template), imageless });
  return { guest, paths, facts, base: built.base, xml, desired };
}

function backingIssues(guest: Guest, path: string, info: ImageInfo): SpecIssue[] {
  if (!info.backing) return [];
  return [{ path: `guests.${guest.name}.image`, message: `${path} has a backing file of its own (${info.backing}); give flakevirt a standalone image (qemu-img convert -O qcow2 …)` }];
}
