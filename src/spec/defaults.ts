// Values a spec gets when it leaves a field out.

export const DEFAULTS = {
  connect: 'qemu:///system',
  network: 'default',
  pool: '/var/lib/libvirt/images/flakevirt',
  /** Target directory of the storage pool "flakevirt" on a remote host. */
  remotePool: '/var/lib/libvirt/flakevirt',
  /** Name of the implicit host when the spec has no hosts:. */
  hostName: 'local',
  nixosFlake: 'github:linux-kdevops/nixos-flake',
  accel: 'auto',
  user: 'kdevops',
  memory: '4GiB',
  vcpus: 4,
  diskSize: '20GiB',
  profiles: ['devel'],
  testSuites: [] as string[],
  template: 'q35',
} as const;

/** Templates shipped in domain-templates/, by name (file name without .xml). */
export const BUILTIN_TEMPLATES: readonly string[] = ['q35'];
