// What flakevirt reads from a kernel the developer built, for imageless guests (issue 23): the
// release a bzImage carries and whether its configuration has what nixos-flake's imageless backend
// needs built in. Pure: the caller reads the files.

/** Bytes of a bzImage that hold its setup header and the version string it points to. */
export const BZIMAGE_HEAD_BYTES = 64 * 1024;

/**
 * The kernel release in a bzImage ("6.12.95+deb12-cloud-amd64"), from the x86 boot protocol's setup
 * header (Documentation/arch/x86/boot.rst: "HdrS" at 0x202, the protocol version at 0x206, and at
 * 0x20e `kernel_version`, the offset less 0x200 of a NUL-terminated version string, protocol 2.00+).
 * Undefined for anything else.
 */
export function bzImageRelease(head: Uint8Array): string | undefined {
  if (head.length < 0x210) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = String.fromCharCode(head[0x202]!, head[0x203]!, head[0x204]!, head[0x205]!);
  if (magic !== 'HdrS' || view.getUint16(0x206, true) < 0x200) return undefined;
  const pointer = view.getUint16(0x20e, true);
  if (pointer === 0) return undefined;
  const start = pointer + 0x200;
  const end = head.indexOf(0, start);
  if (start >= head.length || end < 0) return undefined;
  const release = new TextDecoder('latin1').decode(head.subarray(start, end)).split(' ')[0] ?? '';
  // A release is what `uname -r` prints and names a directory under /lib/modules.
  return /^[0-9][A-Za-z0-9._+~-]{0,63}$/.test(release) ? release : undefined;
}

/**
 * What the imageless backend's kernel must have built in (nix/imageless-contract.md: the initrd
 * carries no modules, so nothing needed to mount the shares can be a module).
 */
export const IMAGELESS_BUILTINS: ReadonlyArray<{ option: string; why: string }> = [
  { option: 'CONFIG_VIRTIO_PCI', why: 'the virtio devices (disks, network, the virtiofs shares) sit on PCI' },
  { option: 'CONFIG_VIRTIO_FS', why: 'the Nix store and /lib/modules come over virtiofs before any module can load' },
  { option: 'CONFIG_TMPFS', why: 'the root file system is a tmpfs' },
];

/** The built-ins a kernel configuration (a `.config`) lacks, with what it has instead ("m", or unset). */
export function missingBuiltins(config: string): Array<{ option: string; why: string; has: 'm' | 'not set' }> {
  const values = new Map<string, string>();
  for (const line of config.split('\n')) {
    const m = /^(CONFIG_[A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) values.set(m[1]!, m[2]!);
  }
  return IMAGELESS_BUILTINS.flatMap((b) => {
    const v = values.get(b.option);
    if (v === 'y') return [];
    return [{ ...b, has: v === 'm' ? 'm' as const : 'not set' as const }];
  });
}
