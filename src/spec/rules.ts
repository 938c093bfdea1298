// Cross-field rules on a spec that already has the right shape: devices, numbering, exclusive options.
import type { SpecIssue } from '../errors.js';
import type { RawDisk, RawGuest, RawSpec, RawStorage } from './schema.js';
import { parseSize, formatSize, MiB, TiB } from './units.js';
import { macFor } from '../render/identity.js';
import { BUILTIN_TEMPLATES, DEFAULTS } from './defaults.js';
import { connectIssues, jumpIssues } from '../hosts.js';
import { BUSES, busOnlyFields, parseDevice, type DiskBus, type PlacedDisk } from '../disks/bus.js';

export interface RuleResult {
  issues: SpecIssue[];
  warnings: SpecIssue[];
}

export type { PlacedDisk } from '../disks/bus.js';

/** Checks everything that spans more than one field; returns every issue, not just the first. */
export function checkRules(spec: RawSpec): RuleResult {
  const issues: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  const macs = new Map<string, string>();
  for (const [name, guest] of Object.entries(spec.guests)) {
    const at = `guests.${name}`;
    checkGuest(at, guest, issues, warnings);
    checkBootKind(at, guest, spec.defaults, issues, warnings);
    const mac = guest.mac ?? macFor(name);
    const other = macs.get(mac);
    if (other) issues.push({ path: `${at}.mac`, message: `MAC ${mac} is also guest "${other}"'s; set a different mac: on one of them` });
    macs.set(mac, name);
  }
  if (spec.defaults) checkCommon('defaults', spec.defaults, issues);
  checkHosts(spec, issues);
  if (Object.keys(spec.guests).length === 0) issues.push({ path: 'guests', message: 'no guests; add at least one under guests:' });
  for (const [i, p] of (spec.sshKeyFiles ?? []).entries()) {
    if (!p.endsWith('.pub')) issues.push({ path: `sshKeyFiles.${i}`, message: `"${p}" does not end in .pub; name the public key, never the private one` });
    // ssh_config and Ansible's ssh arguments cannot carry these (and ssh expands % in IdentityFile).
    if (/["%\\]/.test(p)) issues.push({ path: `sshKeyFiles.${i}`, message: `"${p}" has a character ssh_config and Ansible cannot pass on (" % \\); move the key to a plainer path` });
  }
  return { issues, warnings };
}

/** hosts: and the guests pinned to them. */
function checkHosts(spec: RawSpec, issues: SpecIssue[]): void {
  const names = spec.hosts ? Object.keys(spec.hosts) : [DEFAULTS.hostName];
  if (spec.hosts && spec.connect !== undefined) {
    issues.push({ path: 'connect', message: `connect: and hosts: are both given; move the URI into hosts: (e.g. hosts: { ${DEFAULTS.hostName}: { connect: ${spec.connect} } })` });
  }
  if (spec.hosts && names.length === 0) issues.push({ path: 'hosts', message: 'no hosts; list at least one, or leave hosts: out for the single host at connect:' });
  for (const [name, h] of Object.entries(spec.hosts ?? {})) {
    sizeRange(`hosts.${name}.memory`, h.memory, 128 * MiB, 64 * TiB, issues);
    issues.push(...connectIssues(h.connect, `hosts.${name}.connect`));
    if (typeof h.jump === 'string') issues.push(...jumpIssues(h.jump, `hosts.${name}.jump`));
  }
  if (spec.connect !== undefined) issues.push(...connectIssues(spec.connect, 'connect'));
  // (libvirt's test driver gives each connection a private instance: test:// URIs may repeat.)
  const uris = Object.entries(spec.hosts ?? {}).filter(([, h]) => !h.connect.startsWith('test:')).map(([n, h]) => [n, h.connect] as const);
  for (const [i, [n, c]] of uris.entries()) {
    const twin = uris.slice(0, i).find(([, c2]) => c2 === c);
    if (twin) issues.push({ path: `hosts.${n}.connect`, message: `${c} is host ${twin[0]}'s URI too; one libvirt host is one entry (two would place guests twice on it)` });
  }
  for (const [name, g] of Object.entries(spec.guests)) {
    if (g.host !== undefined && !names.includes(g.host)) {
      issues.push({ path: `guests.${name}.host`, message: `no host named "${g.host}"; known hosts: ${names.join(', ')}${spec.hosts ? '' : ' (add a hosts: section to name more)'}` });
    }
  }
}

/**
 * The fields a guest can also take from defaults:, checked wherever they are written, so every
 * guest's resolved value (its own, else the default) has passed the same rules.
 */
function checkCommon(at: string, g: NonNullable<RawSpec['defaults']>, issues: SpecIssue[]): void {
  sizeRange(`${at}.memory`, g.memory, 128 * MiB, 16 * TiB, issues);
  if (g.imageless !== undefined) checkImageless(at, g.imageless, issues);
  sizeRange(`${at}.diskSize`, g.diskSize, 256 * MiB, 64 * TiB, issues);
  if (g.template !== undefined && !BUILTIN_TEMPLATES.includes(g.template) && !g.template.startsWith('/') && !g.template.startsWith('~/')) {
    issues.push({ path: `${at}.template`, message: `"${g.template}" is neither a built-in template (${BUILTIN_TEMPLATES.join(', ')}) nor an absolute path` });
  }
}

/** An imageless guest (its own imageless:, or the default's when it names no image:) boots only its kernel. */
function checkBootKind(at: string, g: RawGuest, defaults: RawSpec['defaults'], issues: SpecIssue[], warnings: SpecIssue[]): void {
  if (g.image !== undefined && g.imageless !== undefined) {
    issues.push({ path: `${at}.imageless`, message: 'image: and imageless: are both set; an imageless guest has no disk image. Keep one of them' });
    return;
  }
  const imageless = g.image === undefined && (g.imageless ?? defaults?.imageless) !== undefined;
  if (!imageless) return;
  for (const f of ['kernel', 'initrd', 'cmdline'] as const) {
    if (g[f] !== undefined) issues.push({ path: `${at}.${f}`, message: `an imageless guest boots the kernel imageless: names, with the initrd and command line of its Nix closure; remove ${f}:` });
  }
  if (g.diskSize !== undefined) warnings.push({ path: `${at}.diskSize`, message: 'an imageless guest has no root disk (its root is a tmpfs); diskSize is ignored' });
}

/** imageless: names a kernel one way: a build tree, or a bzImage with its modules. */
function checkImageless(at: string, k: NonNullable<RawGuest['imageless']>, issues: SpecIssue[]): void {
  const p = `${at}.imageless`;
  if (k.tree !== undefined) {
    const extra = (['bzImage', 'modules', 'config'] as const).filter((f) => k[f] !== undefined);
    if (extra.length) issues.push({ path: p, message: `tree: and ${extra.join(', ')}: are both set; name a kernel build tree (tree:) or a bzImage with its modules (bzImage:, modules:), not both` });
  } else if (k.bzImage === undefined || k.modules === undefined) {
    issues.push({ path: p, message: `${k.bzImage === undefined && k.modules === undefined ? 'no kernel named' : k.bzImage === undefined ? 'modules: without bzImage:' : 'bzImage: without modules:'}; write imageless: { tree: /path/to/linux } (a built kernel tree) or imageless: { bzImage: FILE, modules: DIR } (DIR holds <release>/modules.dep, e.g. INSTALL_MOD_PATH/lib/modules)` });
  }
}

function checkGuest(at: string, g: RawGuest, issues: SpecIssue[], warnings: SpecIssue[]): void {
  checkCommon(at, g, issues);
  if (g.kernel === undefined) {
    for (const f of ['initrd', 'cmdline'] as const) {
      if (g[f] !== undefined) issues.push({ path: `${at}.${f}`, message: `${f} needs kernel: as well` });
    }
  }
  const disks = placeDisks(at, g, issues);
  for (const bus of Object.values(BUSES) as DiskBus[]) issues.push(...bus.checkGuest(at, disks.filter((d) => d.ref.bus === bus.name)));
  for (const d of disks) checkDisk(d, issues, warnings);
  for (const [mp, s] of Object.entries(g.storage ?? {})) {
    const p = `${at}.storage.${mp}`;
    if (mp === '/' || mp.endsWith('/') || mp.includes('//') || mp.split('/').includes('.')) {
      issues.push({ path: p, message: `mount point "${mp}" must be a normalised absolute path other than "/", e.g. /mnt/test` });
    }
    // flakevirt creates every extra disk empty: a mount with no way to make its filesystem would fail
    // at boot, and a failed local mount sends NixOS to emergency mode.
    if (!s.autoFormat && (s.mkfsArgs ?? []).length === 0) {
      issues.push({ path: p, message: `${s.device ?? 'the disk'} is created empty, so nothing could mount it at boot (NixOS would stop in emergency mode); add autoFormat: true (systemd makes a ${s.fsType ?? 'filesystem'} on first boot) or mkfsArgs: [...] (mkfs.${s.fsType ?? 'FSTYPE'} with those arguments, once)` });
    }
    if (s.autoFormat && (s.mkfsArgs ?? []).length > 0) {
      issues.push({ path: p, message: 'autoFormat and mkfsArgs cannot be used together (nixos-flake rejects it): keep mkfsArgs to format once with those arguments, or autoFormat: true to let systemd format it' });
    }
  }
}

/** Parses every extra disk's device name and rejects duplicates. */
export function placeDisks(at: string, g: RawGuest, issues: SpecIssue[]): PlacedDisk[] {
  const placed: PlacedDisk[] = [];
  const seen = new Map<string, string>();
  const add = (path: string, device: string, decl: RawDisk | RawStorage) => {
    const ref = parseDevice(device);
    if ('error' in ref) return void issues.push({ path, message: ref.error });
    const prev = seen.get(device);
    if (prev) return void issues.push({ path, message: `${device} is declared twice (also at ${prev}); each device is one disk` });
    seen.set(device, path);
    placed.push({ path, device, ref, decl });
  };
  for (const [mp, s] of Object.entries(g.storage ?? {})) add(`${at}.storage.${mp}.device`, s.device, s);
  for (const [dev, d] of Object.entries(g.disks ?? {})) add(`${at}.disks.${dev}`, dev, d);
  return placed;
}

function checkDisk(d: PlacedDisk, issues: SpecIssue[], warnings: SpecIssue[]): void {
  const { decl, ref } = d;
  const base = d.path.replace(/\.device$/, '');
  const size = parseSize(decl.size);
  const lbs = decl.logicalBlockSize;
  const pbs = decl.physicalBlockSize;
  if ('bytes' in size) {
    if (size.bytes < MiB) issues.push({ path: `${base}.size`, message: `${formatSize(size.bytes)} is too small; an extra disk needs at least 1MiB` });
    if (size.bytes > 64 * TiB) issues.push({ path: `${base}.size`, message: `${formatSize(size.bytes)} is over the 64TiB limit for one disk` });
    const unit = Math.max(lbs ?? 512, pbs ?? 512);
    if (size.bytes % unit !== 0) issues.push({ path: `${base}.size`, message: `${size.bytes} bytes is not a multiple of the ${unit}-byte block size` });
  }
  // A field of one bus on a disk of another (each bus lists its own fields, disks/buses/).
  for (const { field, bus } of busOnlyFields()) {
    if (bus.name !== ref.bus && (decl as Record<string, unknown>)[field] !== undefined) {
      issues.push({ path: `${base}.${field}`, message: `${field} is ${bus.setting}; ${d.device} is ${BUSES[ref.bus].noun} (${bus.name} devices: ${bus.devices})` });
    }
  }
  issues.push(...(BUSES[ref.bus] as DiskBus).checkDisk(base, d, 'bytes' in size ? size.bytes : undefined));
  if (lbs !== undefined && lbs > 4096) {
    warnings.push({ path: `${base}.logicalBlockSize`, message: `${lbs}-byte logical blocks are larger than the 4 KiB page: the guest kernel needs large-block-size support, or the disk shows up with size 0` });
  }
}

function sizeRange(path: string, value: unknown, min: number, max: number, issues: SpecIssue[]): void {
  if (value === undefined) return;
  const r = parseSize(value);
  if (!('bytes' in r)) return; // the schema already reported it
  if (r.bytes < min) issues.push({ path, message: `${formatSize(r.bytes)} is too small; the minimum is ${formatSize(min)}` });
  if (r.bytes > max) issues.push({ path, message: `${formatSize(r.bytes)} is too large; the maximum is ${formatSize(max)}` });
}

