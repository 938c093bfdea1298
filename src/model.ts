// The validated fleet: every field present, units resolved, disks laid out. Produced by spec/normalize.ts.

export type Accel = 'auto' | 'kvm' | 'tcg';
export type DiskFormat = 'raw' | 'qcow2';

export interface NvmeAtomic {
  awun?: number;
  awupf?: number;
  dn?: boolean;
}

/** An extra disk (not the root), on the NVMe or the virtio-blk bus. */
interface DiskBase {
  /** Guest device path as written in the spec: /dev/nvme0n1, /dev/vdb. */
  device: string;
  /** Short name, also the backing file's stem: nvme0n1, vdb. */
  name: string;
  sizeBytes: number;
  format: DiskFormat;
  logicalBlockSize?: number;
  physicalBlockSize?: number;
  /** udev's by-id path inside the guest (stock rules), for reference. */
  byId: string;
  /** flakevirt's path inside the guest (/dev/flakevirt/NAME, from its udev rule): what mounts use. */
  guestPath: string;
  /** Mount point when the disk comes from `storage:`. */
  mountPoint?: string;
}

export interface NvmeZoned {
  zoneSizeBytes: number;
  zoneCapacityBytes?: number;
  maxOpen?: number;
  maxActive?: number;
}

export interface NvmeDisk extends DiskBase {
  bus: 'nvme';
  controller: number;
  nsid: number;
  /** Controller serial (shared by its namespaces). */
  serial: string;
  mdts?: number;
  atomic?: NvmeAtomic;
  nawun?: number;
  nawupf?: number;
  zoned?: NvmeZoned;
}

export interface VirtioDisk extends DiskBase {
  bus: 'virtio';
  serial: string;
  /** Pass discards to the backing file (default true). */
  discard: boolean;
  queues?: number;
}

export type Disk = NvmeDisk | VirtioDisk;

/** A `storage:` entry as nixos-flake.storage receives it. */
export interface Mount {
  mountPoint: string;
  device: string;
  fsType: string;
  options: string[];
  mkfsArgs: string[];
  autoFormat: boolean;
}

/**
 * The kernel an imageless guest boots: a kernel build tree (its bzImage, its .config, and modules
 * flakevirt installs from it with `make modules_install`), or a bzImage with the directory that
 * holds its modules (`<modules>/<release>/modules.dep`, like /lib/modules), and optionally its .config.
 */
export type KernelSource =
  | { tree: string }
  | { bzImage: string; modules: string; config?: string };

/** Direct kernel boot (image guests may use it; imageless guests boot their own kernel). */
export interface DirectBoot {
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

export type Boot = ({ kind: 'nix' } | { kind: 'image'; image: string } | { kind: 'imageless'; source: KernelSource }) & DirectBoot;

export interface Guest {
  name: string;
  groups: string[];
  profiles: string[];
  testSuites: string[];
  memoryBytes: number;
  vcpus: number;
  diskSizeBytes: number;
  accel: Accel;
  /** A built-in template name (see domain-templates/) or an absolute path. */
  template: string;
  mac: string;
  boot: Boot;
  mounts: Mount[];
  /** Extra disks, NVMe first (by controller, namespace), then virtio-blk (vdb, vdc, …). */
  disks: Disk[];
  /** The host the spec pins the guest to; without it placement chooses. */
  host?: string;
}

/** How ssh reaches a remote host's guests (they sit on its private NAT network). */
export interface Jump {
  host: string;
  user?: string;
  port?: number;
  keyFile?: string;
  /** The URI said no_verify=1: don't check the jump host's key either. */
  noVerify?: boolean;
}

/** A libvirt host of the fleet. */
interface HostBase {
  name: string;
  connect: string;
  /** Local: the directory of guest directories. Remote: the target of the storage pool "flakevirt". */
  pool: string;
  /** Capacity flakevirt may use there (default: the host's memory minus other domains'; vCPUs unlimited). */
  memoryBytes?: number;
  vcpus?: number;
}

/** A libvirtd on this machine: files are made directly (host-kinds/local.ts). Its guests are reached directly. */
export interface LocalHost extends HostBase {
  local: true;
  jump?: undefined;
}

/** A libvirtd over a connection: files through libvirt's storage API (host-kinds/remote.ts). */
export interface RemoteHost extends HostBase {
  local: false;
  /** undefined: guests are reachable directly (jump: false). */
  jump?: Jump;
}

/** A host of the fleet; its kind is decided once from the URI (hosts.ts hostFor). */
export type Host = LocalHost | RemoteHost;

export interface Fleet {
  /** Absolute path of the spec file, or "(built-in example)". */
  specPath: string;
  /** In spec order; one host "local" when the spec has no hosts:. */
  hosts: Host[];
  network: string;
  /** flakevirt's directory on this machine (the local host's guests, locks, placement record). */
  pool: string;
  nixosFlake: string;
  user: string;
  /** Literal keys plus the contents of sshKeyFiles, in spec order. */
  sshKeys: string[];
  sshKeyFiles: string[];
  guests: Guest[];
}

export interface Warning {
  path: string;
  message: string;
}
