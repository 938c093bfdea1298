// A valid written spec → the model: defaults applied, sizes in bytes, disks laid out with serials.
import type { RawSpec, RawGuest } from './schema.js';
import type { Boot, Disk, Fleet, Guest, Host, KernelSource, Mount } from '../model.js';
import { hostFor } from '../hosts.js';
import { DEFAULTS } from './defaults.js';
import { parseSize } from './units.js';
import { BUSES, busOf, parseDevice, type DiskBus } from '../disks/bus.js';
import { macFor } from '../render/identity.js';

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
        ...bootKind(g, d, tilde),
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

/** Which kind of boot: a prebuilt image, the guest's own kernel without an image, else a Nix-built image. */
function bootKind(g: RawGuest, d: NonNullable<RawSpec['defaults']>, tilde: (p: string) => string): Boot {
  if (g.image !== undefined) return { kind: 'image', image: tilde(g.image) };
  const k = g.imageless ?? d.imageless;
  if (!k) return { kind: 'nix' };
  const source: KernelSource = k.tree !== undefined
    ? { tree: tilde(k.tree) }
    : { bzImage: tilde(k.bzImage!), modules: tilde(k.modules!), ...(k.config !== undefined && { config: tilde(k.config) }) };
  return { kind: 'imageless', source };
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
  const refs = decls.map((x) => {
    const ref = parseDevice(x.device);
    if (!('bus' in ref)) throw new Error(`internal: unvalidated device ${x.device}`);
    return { ...x, ref };
  });
  const disks: Disk[] = refs.map(({ device, decl, mountPoint, ref }) => {
    const common = {
      device,
      name: ref.name,
      sizeBytes: bytes(decl.size),
      format: decl.format ?? 'raw',
      ...(decl.logicalBlockSize !== undefined && { logicalBlockSize: decl.logicalBlockSize }),
      ...(decl.physicalBlockSize !== undefined && { physicalBlockSize: decl.physicalBlockSize }),
      ...(mountPoint !== undefined && { mountPoint }),
    };
    return (BUSES[ref.bus] as DiskBus).normalize(common, ref as never, decl, refs);
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
