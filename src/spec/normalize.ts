// A valid written spec → the model: defaults applied, sizes in bytes, disks laid out with serials.
import type { RawSpec, RawGuest } from './schema.js';
import type { Disk, Fleet, Guest, Host, Mount, NvmeAtomic } from '../model.js';
import { hostFor } from '../hosts.js';
import { DEFAULTS } from './defaults.js';
import { parseDevice } from './devices.js';
import { parseSize } from './units.js';
import { busOf } from '../disks/bus.js';
import { guestPathFor, macFor, nvmeById, nvmeSerial, virtioById, virtioSerial } from '../render/identity.js';

function bytes(v: string | number): number {
  const r = parseSize(v);
  if (!('bytes' in r)) throw new Error(`internal: unvalidated size ${String(v)}`);
  return r.bytes;
}

/** Builds the fleet model. `home` expands "~/"; `keyFileContents` holds the read sshKeyFiles, in order. */
export function normalize(spec: RawSpec, { specPath, home, keyFileContents = [], connect, defaultConnect }: { specPath: string; home: string; keyFileContents?: string[]; connect?: string; defaultConnect?: string }): Fleet {
  const tilde = (p: string) => (p.startsWith('~/') ? `${home}/${p.slice(2)}` : p);
  const d = spec.defaults ?? {};
  const guests = Object.entries(spec.guests)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, g]): Guest => ({
      name,
      groups: g.groups ?? [],
      profiles: g.profiles ?? d.profiles ?? [...DEFAULTS.profiles],
      testSuites: g.testSuites ?? d.testSuites ?? [...DEFAULTS.testSuites],
      memoryBytes: bytes(g.memory ?? d.memory ?? DEFAULTS.memory),
      vcpus: g.vcpus ?? d.vcpus ?? DEFAULTS.vcpus,
      diskSizeBytes: bytes(g.diskSize ?? d.diskSize ?? DEFAULTS.diskSize),
      accel: g.accel ?? d.accel ?? spec.accel ?? DEFAULTS.accel,
      template: tildeOr(g.template ?? d.template ?? DEFAULTS.template, tilde),
      mac: g.mac ?? macFor(name),
      boot: {
        ...(g.image === undefined ? { kind: 'nix' as const } : { kind: 'image' as const, image: tilde(g.image) }),
        ...(g.kernel && { kernel: tilde(g.kernel) }),
        ...(g.initrd && { initrd: tilde(g.initrd) }),
        ...(g.cmdline !== undefined && { cmdline: g.cmdline }),
      },
      ...layout(g),
      ...(g.host !== undefined && { host: g.host }),
    }));
  const pool = tilde(spec.pool ?? DEFAULTS.pool);
  const rawHosts = spec.hosts ?? { [DEFAULTS.hostName]: { connect: connect ?? spec.connect ?? defaultConnect ?? DEFAULTS.connect } };
  const hosts = Object.entries(rawHosts).map(([name, h]): Host => hostFor({
    name, connect: h.connect,
    ...(h.pool !== undefined && { pool: tilde(h.pool) }),
    ...('jump' in h && h.jump !== undefined && { jump: h.jump }),
    ...('memory' in h && h.memory !== undefined && { memoryBytes: bytes(h.memory) }),
    ...('vcpus' in h && h.vcpus !== undefined && { vcpus: h.vcpus }),
  }, { localPool: pool, remotePool: DEFAULTS.remotePool }));
  return {
    specPath,
    hosts,
    network: spec.network ?? DEFAULTS.network,
    pool,
    nixosFlake: spec.nixosFlake ?? DEFAULTS.nixosFlake,
    user: spec.user ?? DEFAULTS.user,
    sshKeys: [...(spec.sshKeys ?? []), ...keyFileContents.map((k) => k.trim())],
    sshKeyFiles: (spec.sshKeyFiles ?? []).map(tilde),
    guests,
  };
}

function tildeOr(p: string, tilde: (p: string) => string): string {
  return p.startsWith('~/') ? tilde(p) : p;
}

/** Extra disks (NVMe by controller and namespace, then virtio-blk) and the mounts that use them. */
function layout(g: RawGuest): { disks: Disk[]; mounts: Mount[] } {
  const decls = [
    ...Object.entries(g.storage ?? {}).map(([mountPoint, s]) => ({ device: s.device, decl: s, mountPoint })),
    ...Object.entries(g.disks ?? {}).map(([device, decl]) => ({ device, decl, mountPoint: undefined })),
  ];
  const controllerSerial = new Map<number, string>();
  for (const { device, decl } of decls) {
    const ref = parseDevice(device);
    if ('bus' in ref && ref.bus === 'nvme' && decl.serial) controllerSerial.set(ref.controller, decl.serial);
  }
  const controllerWide = new Map<number, { mdts?: number; atomic?: NvmeAtomic }>();
  for (const { device, decl } of decls) {
    const ref = parseDevice(device);
    if (!('bus' in ref) || ref.bus !== 'nvme') continue;
    const cur = controllerWide.get(ref.controller) ?? {};
    controllerWide.set(ref.controller, { mdts: cur.mdts ?? decl.mdts, atomic: cur.atomic ?? decl.atomic });
  }
  const disks: Disk[] = decls.map(({ device, decl, mountPoint }) => {
    const ref = parseDevice(device);
    if (!('bus' in ref)) throw new Error(`internal: unvalidated device ${device}`);
    const common = {
      device,
      name: ref.name,
      sizeBytes: bytes(decl.size),
      format: decl.format ?? 'raw',
      ...(decl.logicalBlockSize !== undefined && { logicalBlockSize: decl.logicalBlockSize }),
      ...(decl.physicalBlockSize !== undefined && { physicalBlockSize: decl.physicalBlockSize }),
      ...(mountPoint !== undefined && { mountPoint }),
    };
    if (ref.bus === 'nvme') {
      const serial = controllerSerial.get(ref.controller) ?? nvmeSerial(ref.controller);
      const wide = controllerWide.get(ref.controller) ?? {};
      // QEMU NVMe needs logical = physical; one given means both.
      const lbs = decl.logicalBlockSize ?? decl.physicalBlockSize;
      return {
        ...common,
        ...(lbs !== undefined && { logicalBlockSize: lbs, physicalBlockSize: lbs }),
        bus: 'nvme', controller: ref.controller, nsid: ref.nsid, serial, byId: nvmeById(serial, ref.nsid), guestPath: guestPathFor(ref.name),
        ...(wide.mdts !== undefined && { mdts: wide.mdts }),
        ...(wide.atomic !== undefined && { atomic: wide.atomic }),
        ...(decl.nawun !== undefined && { nawun: decl.nawun }),
        ...(decl.nawupf !== undefined && { nawupf: decl.nawupf }),
        ...(decl.zoned && {
          zoned: {
            zoneSizeBytes: bytes(decl.zoned.zoneSize),
            ...(decl.zoned.zoneCapacity !== undefined && { zoneCapacityBytes: bytes(decl.zoned.zoneCapacity) }),
            ...(decl.zoned.maxOpen !== undefined && { maxOpen: decl.zoned.maxOpen }),
            ...(decl.zoned.maxActive !== undefined && { maxActive: decl.zoned.maxActive }),
          },
        }),
      };
    }
    const serial = decl.serial ?? virtioSerial(ref.name);
    return { ...common, bus: 'virtio', serial, byId: virtioById(serial), guestPath: guestPathFor(ref.name), discard: decl.discard ?? true, ...(decl.queues !== undefined && { queues: decl.queues }) };
  });
  disks.sort(diskOrder);
  const byDevice = new Map(disks.map((x) => [x.device, x]));
  const mounts: Mount[] = Object.entries(g.storage ?? {})
    .map(([mountPoint, s]) => ({
      mountPoint,
      device: byDevice.get(s.device)!.guestPath,
      fsType: s.fsType,
      options: s.options ?? [],
      mkfsArgs: s.mkfsArgs ?? [],
      autoFormat: s.autoFormat ?? false,
    }))
    .sort((a, b) => (a.mountPoint < b.mountPoint ? -1 : 1));
  return { disks, mounts };
}

/** NVMe before virtio; NVMe by controller then namespace; virtio by name. */
export function diskOrder(a: Disk, b: Disk): number {
  const [ba, bb] = [busOf(a), busOf(b)];
  return ba.rank - bb.rank || (ba === bb ? ba.compare(a, b as never) : 0);
}
