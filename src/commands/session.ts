// A command's connection to one libvirt host: the spec, libvirt, host facts, network and leases.
import { stat } from 'node:fs/promises';
import { ToolError, SpecError } from '../errors.js';
import type { Fleet, Guest } from '../model.js';
import { Libvirt } from '../adapters/libvirt.js';
import { readHostInfo, factsFor, type HostInfo } from '../adapters/host-facts.js';
import { leaseSource, type LeaseSource } from '../adapters/lease-source.js';
import { imageInfo, type ImageInfo } from '../adapters/disks.js';
import { readTemplate } from '../adapters/templates.js';
import { leaseTimeOf } from '../leases.js';
import { renderDomain } from '../render/domain.js';
import { guestPaths, type GuestPaths } from '../render/paths.js';
import { fingerprint, guestState, type BaseImage, type HostFacts } from '../render/state.js';
import type { Desired } from '../plan.js';
import { checkQemuCanRead } from '../adapters/permissions.js';

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
  baseInfo: ImageInfo;
  xml: string;
  desired: Desired;
}

export class Session {
  private hostInfo?: Promise<HostInfo>;
  private networks = new Map<string, Promise<NetworkInfo>>();
  private images = new Map<string, Promise<ImageInfo>>();

  /** Nix-built images (or the error that stopped them), by guest, set before targets are made. */
  readonly built = new Map<string, { base: BaseImage } | Error>();

  private constructor(readonly lv: Libvirt, readonly fleet: Fleet | undefined) {}

  static async open(uri: string, fleet?: Fleet): Promise<Session> {
    return new Session(await Libvirt.open(uri), fleet);
  }

  close(): Promise<void> {
    return this.lv.close();
  }

  host(): Promise<HostInfo> {
    return (this.hostInfo ??= readHostInfo(this.lv));
  }

  /** The network with its bridge and lease source; starts it when `ensureActive` and it is down. */
  network(name: string, { ensureActive = false } = {}): Promise<NetworkInfo> {
    let p = this.networks.get(name);
    if (!p) {
      p = (async () => {
        // Read commands on a local host take the bridge from libvirt's live network status file
        // (a file read instead of a virsh process); up and reimage ask virsh, which can also start it.
        const live = !ensureActive && this.lv.isLocal ? await liveBridge(name) : undefined;
        let info = live ? { exists: true, active: true, bridge: live } : await this.lv.virsh.networkInfo(name);
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
          leaseTime: () => (leaseTime ??= this.lv.virsh.networkXml(name).then(leaseTimeOf)),
          leases: await leaseSource(this.lv, name, info.bridge),
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

  /** Everything `up`/`reimage` needs for a guest: rendered XML, base image, files. */
  async target(guest: Guest): Promise<GuestTarget> {
    const fleet = this.fleet!;
    let base: BaseImage;
    if (guest.boot.kind === 'image') {
      const st = await stat(guest.boot.image);
      base = { path: guest.boot.image, id: `file:${guest.boot.image}:${st.size}:${Math.floor(st.mtimeMs)}` };
    } else {
      const built = this.built.get(guest.name);
      if (!built) throw new Error(`internal: ${guest.name} was not built`);
      if (built instanceof Error) throw built;
      base = built.base;
    }
    const basePath = base.path;
    const baseInfo = await this.image(basePath);
    if (baseInfo.backing) {
      throw new SpecError([{ path: `guests.${guest.name}.image`, message: `${basePath} has a backing file of its own (${baseInfo.backing}); give flakevirt a standalone image (qemu-img convert -O qcow2 …)` }], `cannot use ${basePath}`);
    }
    const info = await this.host();
    if (this.lv.isLocal) {
      const files = [basePath, ...(guest.boot.kernel ? [guest.boot.kernel] : []), ...(guest.boot.initrd ? [guest.boot.initrd] : [])];
      for (const f of files) await checkQemuCanRead(f, info.qemuLabel, guest.name);
    }
    const needsQemuNvme = guest.disks.some((d) => d.bus === 'nvme' && (d.mdts !== undefined || d.atomic || d.nawun !== undefined || d.nawupf !== undefined || d.zoned));
    const facts = factsFor(info, guest.accel, needsQemuNvme);
    const templateText = await readTemplate(guest.template);
    const xml = renderDomain({ fleet, guest, host: facts, base, templateText });
    const state = guestState(fleet, guest, base, facts, templateText);
    const paths = guestPaths(fleet.pool, guest.name);
    const desired: Desired = {
      state,
      fingerprint: fingerprint(state),
      root: paths.root,
      manifest: paths.manifest,
      disks: guest.disks.map((disk) => ({ disk, path: paths.disk(disk) })),
    };
    return { guest, paths, facts, base, baseInfo, xml, desired };
  }
}

/** The bridge of an active local network, from /run/libvirt/network/NAME.xml (root only). */
async function liveBridge(name: string): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  const xml = await readFile(`/run/libvirt/network/${name}.xml`, 'utf8').catch(() => undefined);
  return xml ? /<bridge name=['"]([^'"]+)['"]/.exec(xml)?.[1] : undefined;
}
