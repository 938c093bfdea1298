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
  /** Stable path inside the guest (udev by-id), used by the NixOS config instead of probe-order names. */
  byId: string;
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

/** Direct kernel boot (either kind of image may use it). */
export interface DirectBoot {
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

export type Boot = ({ kind: 'nix' } | { kind: 'image'; image: string }) & DirectBoot;

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
}

export interface Fleet {
  /** Absolute path of the spec file, or "(built-in example)". */
  specPath: string;
  connect: string;
  network: string;
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
