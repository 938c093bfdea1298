// The written spec (flakevirt.yaml) as a zod schema: shapes, types and per-field formats.
// Cross-field rules live in rules.ts; defaults and units are resolved in normalize.ts.
import { z } from 'zod';
import { parseSize } from './units.js';
import { SSH_PUBLIC_KEY } from './ssh-key.js';
import { LIMITS } from './limits.js';

/** Profiles and test suites that nixos-flake exports (nixosModules.profiles.*, nixosModules.testSuites.*). */
export const PROFILES = ['build-tools', 'controller', 'devel', 'monitoring'] as const;
export const TEST_SUITES = ['blktests', 'fstests', 'gitr', 'ltp', 'mmtests', 'pynfs', 'selftests', 'sysbench'] as const;

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Ansible's template markers: a value flakevirt hands to Ansible (the inventory) must not template. */
const TEMPLATE = /\{[{%#]/;
/** What XML 1.0 cannot carry (U+FFFE, U+FFFF, lone surrogates) besides the control characters. */
const UNREPRESENTABLE = /[\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;


/**
 * Every string in a spec: one line, no control characters, and no "{{", "{%" or "{#": Ansible
 * templates inventory values, so a mount point or path carrying them would run what they say in a
 * root-run playbook that uses the variable. Refused rather than escaped: no disk, path or key needs them.
 */
const text = z.string({ error: 'expected a string' }).refine((s) => !CONTROL.test(s), {
  message: 'contains a control character (newline, tab, NUL …); write it on one line without them',
}).refine((s) => !TEMPLATE.test(s), {
  message: 'contains "{{", "{%" or "{#", which Ansible would evaluate as a template where flakevirt passes the value on (the inventory); write it without them',
}).refine((s) => !UNREPRESENTABLE.test(s), {
  message: 'contains a character XML and the domain definition cannot carry (U+FFFE, U+FFFF or a lone surrogate); remove it',
}).refine((s) => s.length <= LIMITS.string, { message: `is longer than ${LIMITS.string} characters` });

/** Strict object whose unknown keys are named together with the known ones. */
function strict<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')}; known keys here: ${known}` : undefined),
  });
}

const size = z.union([z.string(), z.number()], { error: 'expected a size such as "20GiB"' }).superRefine((v, ctx) => {
  const r = parseSize(v);
  if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
});

const absPath = text.refine((p) => /^(\/|~\/)/.test(p), { message: 'must be an absolute path (starting with / or ~/); relative paths are ambiguous' })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".." segments' });

const blockSize = z.number({ error: 'expected a number of bytes, e.g. 4096' }).int()
  .refine((n) => n >= 512 && n <= 65536 && (n & (n - 1)) === 0, { message: 'must be a power of two from 512 to 65536 bytes' });

const smallInt = (max: number, what: string) => z.number({ error: `expected a whole number (${what})` }).int({ message: `expected a whole number (${what})` })
  .min(0, { message: `must be ≥ 0 (${what})` }).max(max, { message: `must be ≤ ${max} (${what})` });

const serial = text.regex(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,19}$/, { message: 'a serial is 1–20 characters of A–Z, a–z, 0–9, ".", "_" or "-", not starting with "-"' });

/** Host-side fields every extra disk has (storage: and disks: alike). */
const diskFields = {
  size: size.describe('Disk size with a binary unit, e.g. "20GiB" (1MiB … 64TiB, a multiple of the block size)'),
  format: z.enum(['raw', 'qcow2'], { error: 'format is "raw" (default) or "qcow2"' }).describe('Backing file format: raw (default) or qcow2').optional(),
  logicalBlockSize: blockSize.describe('Logical block size in bytes: a power of two, 512 … 65536 (NVMe: equal to physicalBlockSize)').optional(),
  physicalBlockSize: blockSize.describe('Physical block size in bytes: a power of two, 512 … 65536').optional(),
  serial: serial.describe('Disk serial (NVMe: the controller\'s); default fvnvmeN or fv-vdX').optional(),
  // NVMe only (rules.ts rejects them on virtio-blk):
  mdts: smallInt(15, 'log2 of the largest transfer in 4 KiB units; QEMU default 7 = 512 KiB').describe('NVMe controller: log2 of the largest transfer in 4 KiB units (QEMU default 7 = 512 KiB)').optional(),
  atomic: strict({
    awun: smallInt(65535, 'atomic write unit normal, in logical blocks minus one').optional(),
    awupf: smallInt(65535, 'atomic write unit power fail, in logical blocks minus one').optional(),
    dn: z.boolean({ error: 'expected true or false' }).optional(),
  }).describe('NVMe controller atomic write units, in logical blocks minus one (QEMU ≥ 9.2)').optional(),
  nawun: smallInt(65535, 'namespace atomic write unit normal, logical blocks minus one').describe('NVMe namespace atomic write unit normal, logical blocks minus one').optional(),
  nawupf: smallInt(65535, 'namespace atomic write unit power fail, logical blocks minus one').describe('NVMe namespace atomic write unit power fail, logical blocks minus one').optional(),
  zoned: strict({
    zoneSize: size,
    zoneCapacity: size.optional(),
    maxOpen: smallInt(65535, 'most zones open at once; 0 = no limit').optional(),
    maxActive: smallInt(65535, 'most zones active at once; 0 = no limit').optional(),
  }).describe('NVMe zoned namespace: zone size and capacity (sizes), max open and active zones (0 = no limit)').optional(),
  // virtio-blk only (rules.ts rejects them on NVMe):
  discard: z.boolean({ error: 'expected true or false' }).describe('virtio-blk: pass discards to the backing file (default true)').optional(),
  queues: z.number({ error: 'expected a whole number of queues' }).int({ message: 'expected a whole number of queues' }).min(1, { message: 'must be at least 1' }).max(64, { message: 'must be at most 64' }).optional(),
};

const diskSchema = strict(diskFields);

const storageSchema = strict({
  device: text.describe("flakevirt's name for the disk, /dev/nvmeXnY (namespace Y of emulated NVMe controller X) or /dev/vdb…/dev/vdz (virtio-blk); in the guest it is /dev/flakevirt/nvmeXnY or /dev/flakevirt/vdX (linked by serial and namespace id). Not a promise of the kernel's name: Linux probes NVMe controllers and namespaces asynchronously, so /dev/nvme0n1 in the guest can be another disk"),
  fsType: text.regex(/^[a-z0-9][a-z0-9._-]*$/, { message: 'a filesystem type such as xfs, ext4, btrfs' }),
  options: z.array(text).optional(),
  mkfsArgs: z.array(text).optional(),
  autoFormat: z.boolean({ error: 'expected true or false' }).optional(),
  ...diskFields,
});

const hostname = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const guestName = z.string().regex(hostname, {
  message: 'a guest name must be a valid hostname: lowercase letters, digits and "-", 1–63 characters, not starting or ending with "-"',
}).refine((n) => !/^\d+$/.test(n), { message: 'a guest name must not be only digits (virsh would read it as a domain id); add a letter' })
  .refine((n) => !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/.test(n), { message: 'a guest name must not look like a UUID (virsh would read it as a domain UUID)' });

const guestCommon = {
  memory: size.describe('Guest memory with a binary unit, e.g. "4GiB"').optional(),
  vcpus: z.number({ error: 'expected a whole number of vCPUs' }).int({ message: 'expected a whole number of vCPUs' }).min(1, { message: 'must be at least 1' }).max(512, { message: 'must be at most 512' }).optional(),
  diskSize: size.describe('Root disk virtual size, e.g. "20GiB"').optional(),
  profiles: z.array(z.enum(PROFILES, { error: `a profile is one of ${PROFILES.join(', ')}` })).optional(),
  testSuites: z.array(z.enum(TEST_SUITES, { error: `a test suite is one of ${TEST_SUITES.join(', ')}` })).optional(),
  accel: z.enum(['auto', 'kvm', 'tcg'], { error: 'accel is auto, kvm or tcg' }).optional(),
  template: text.optional(),
  imageless: strict({
    tree: absPath.describe('A kernel build tree: flakevirt boots its arch/x86/boot/bzImage, checks its .config and installs its modules (make modules_install) into a directory of its own').optional(),
    bzImage: absPath.describe('A built kernel image (bzImage) to boot, with modules:').optional(),
    modules: absPath.describe('The directory holding the kernel\'s modules as <release>/ with modules.dep (like /lib/modules, or INSTALL_MOD_PATH/lib/modules)').optional(),
    config: absPath.describe('The kernel\'s .config, checked for what an imageless boot needs built in (default: <modules>/<release>/build/.config or config-<release> beside the bzImage, when there)').optional(),
  }).describe('Boot your own kernel without a disk image (nixos-flake\'s imageless backend: tmpfs root, /nix/store and /lib/modules over virtiofs): { tree: DIR } or { bzImage: FILE, modules: DIR }').optional(),
};

const guestSchema = strict({
  ...guestCommon,
  groups: z.array(text.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'an Ansible group name: letters, digits and "_", not starting with a digit' })
    .refine((g) => !['all', 'ungrouped', '_meta'].includes(g) && !g.startsWith('__'), { message: 'all, ungrouped, _meta and names starting with "__" mean something else to Ansible; choose another group name' })
    .refine((g) => !g.startsWith('host_'), { message: 'host_* groups are flakevirt\'s own (one per libvirt host, carrying its ssh jump); choose another group name' })).optional(),
  storage: z.record(absPath.refine((p) => p.startsWith('/'), { message: 'a mount point is an absolute path in the guest, starting with / (not ~)' }), storageSchema).describe('nixos-flake storage entries keyed by mount point, plus host-side disk fields').optional(),
  disks: z.record(text, diskSchema).describe('Extra disks attached but not mounted, keyed by flakevirt\'s name for the disk (/dev/nvmeXnY, /dev/vdb…); in the guest each is at /dev/flakevirt/<name> (by serial and namespace id), not necessarily at the kernel name, which moves between boots for NVMe').optional(),
  image: absPath.describe('Prebuilt qcow2 base image for the root disk; without it the image is built through Nix').optional(),
  kernel: absPath.optional(),
  initrd: absPath.optional(),
  cmdline: text.optional(),
  mac: text.regex(/^52:54:00(:[0-9a-f]{2}){3}$/, { message: 'a MAC in libvirt\'s range, lowercase: 52:54:00:xx:xx:xx' }).optional(),
  host: text.describe('The hosts: entry this guest runs on; without it flakevirt places the guest').optional(),
});

const libvirtUri = text.regex(/^[a-z][a-z0-9+]*:\/\/[^\s]*$/, { message: 'a libvirt URI such as qemu:///system or qemu+ssh://root@host/system' });

const hostSchema = strict({
  connect: libvirtUri.describe('libvirt URI of the host: qemu:///system, qemu+ssh://user@host/system?keyfile=…'),
  memory: size.describe('Memory flakevirt may give this host\'s guests (default: the host\'s memory minus other domains\')').optional(),
  vcpus: z.number({ error: 'expected a whole number of vCPUs' }).int({ message: 'expected a whole number of vCPUs' }).min(1, { message: 'must be at least 1' }).describe('Most vCPUs flakevirt may give this host\'s guests (default: no limit)').optional(),
  pool: absPath.describe('Where flakevirt keeps files on that host (remote: the target of its libvirt storage pool "flakevirt")').optional(),
  jump: z.union([
    text.regex(/^([a-z_][a-z0-9_.-]*@)?[A-Za-z0-9.:_-]+$/, { message: 'a jump host as [user@]host[:port]' }),
    z.literal(false),
  ], { error: 'jump is "[user@]host[:port]" or false' }).describe('ssh jump to reach its guests (default: user, address and keyfile of connect; false: guests are routable)').optional(),
});
const hostName = z.string().regex(/^[a-z0-9]([a-z0-9_-]{0,30}[a-z0-9])?$/, { message: 'a host name: lowercase letters, digits, "-" and "_", 1–32 characters' });

const sshKey = text.regex(SSH_PUBLIC_KEY, {
  message: 'not an OpenSSH public key line ("ssh-ed25519 AAAA… comment")',
});

export const specSchema = strict({
  connect: libvirtUri.optional(),
  hosts: z.record(hostName, hostSchema, { error: 'hosts must be a mapping of host name → { connect: URI, … }' }).describe('libvirt hosts the fleet spreads over; default one host "local" at connect').optional(),
  network: text.regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/, { message: 'a libvirt network name such as "default" (letters, digits, "_", ".", "-", not starting with "-")' }).optional(),
  pool: absPath.optional(),
  nixosFlake: text.refine((s) => /^([a-z][a-z0-9+]*:\S+|\/\S*)$/.test(s), { message: 'a flake reference (github:owner/repo, path:/abs, git+https://…) or an absolute path, without spaces' }).optional(),
  accel: guestCommon.accel,
  user: text.regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'a Unix user name: lowercase letters, digits, "_" and "-", up to 32 characters' })
    .refine((u) => u !== 'root', { message: 'must not be root (root already gets the ssh keys); name the unprivileged account' }).optional(),
  sshKeys: z.array(sshKey).optional(),
  sshKeyFiles: z.array(absPath).optional(),
  defaults: strict(guestCommon).optional(),
  guests: z.record(guestName, guestSchema, { error: 'guests must be a mapping of guest name → guest' }),
});

export type RawSpec = z.infer<typeof specSchema>;
export type RawHost = z.infer<typeof hostSchema>;
export type RawGuest = z.infer<typeof guestSchema>;
export type RawDisk = z.infer<typeof diskSchema>;
export type RawStorage = z.infer<typeof storageSchema>;
