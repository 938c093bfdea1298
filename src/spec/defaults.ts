// Values a spec gets when it leaves a field out.

export const DEFAULTS = {
  connect: 'qemu:///system',
  network: 'default',
  pool: '/var/lib/libvirt/images/flakevirt',
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
