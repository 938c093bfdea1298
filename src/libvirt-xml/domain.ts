// libvirt domain XML, typed: one parse/build pair. The elements flakevirt writes or reads have
// fields; everything else a template (or libvirt) put there stays in `raw` and is written back in
// place. Rule for elements read from XML: one that keeps its `raw` is written back exactly as read
// (its fields are a read-only view); one flakevirt makes has no `raw` and is built from its fields.
// Domain-wide fields flakevirt owns (type, name, memory, vcpu, metadata, os, sysinfo, cpu, the
// device lists, QEMU arguments) are always written from the fields.
import { attr, attrs, buildXml, child, children, parseXml, text, textNode, type XmlNode } from './tree.js';
import { BOOT_NS, parseBootRecord, type BootRecord } from '../render/boot-record.js';
import { CHECKPOINT_NS, parseCheckpointRecord, type CheckpointRecord } from '../render/checkpoint-record.js';

export const METADATA_NS = 'http://flakevirt.dev/xmlns/guest/1';
export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

/** flakevirt's mark on a domain it created (<metadata><flakevirt:guest>). */
export interface GuestMetadata {
  spec: string;
  fingerprint: string;
  dir: string;
  base: string;
  /** The flat record the fingerprint hashes (render/state.ts), empty when unreadable. */
  state: Record<string, string>;
}

export type DomainDiskSource =
  | { type: 'file'; file: string; /** <seclabel model relabel> on the source. */ seclabel?: { model: string; relabel: boolean } }
  | { type: 'block'; dev: string }
  | { type: 'volume'; pool: string; volume: string }
  /** Any other source type (network, nvme, vhostuser, …): read as its type only, kept raw. */
  | { type: 'other'; kind: string };

export interface DomainBackingStore {
  format: string;
  source: DomainDiskSource;
  /** Below this one: another backing store, or 'none' (<backingStore/>, the chain ends). */
  backingStore?: DomainBackingStore | 'none';
}

export interface DomainDisk {
  device: string;
  source?: DomainDiskSource;
  driver?: { name: string; type: string; cache?: string; io?: string; discard?: string; queues?: number };
  backingStore?: DomainBackingStore | 'none';
  target: { dev: string; bus: string };
  serial?: string;
  blockio?: { logicalBlockSize?: number; physicalBlockSize?: number };
  raw?: XmlNode;
}

export interface DomainController {
  type: string;
  index?: number;
  model?: string;
  serial?: string;
  raw?: XmlNode;
}

export interface DomainInterface {
  type: string;
  mac?: string;
  /** <source network> of a network-type interface. */
  network?: string;
  model?: string;
  raw?: XmlNode;
}

/**
 * A <filesystem> shared with the guest. flakevirt writes virtiofs shares (imageless guests: the
 * Nix store and /lib/modules, with the tags nixos-flake's imageless backend mounts by).
 */
export interface DomainFilesystem {
  /** <driver type>: "virtiofs". */
  driver: string;
  /** <driver queue>: the virtqueue size. */
  queue?: number;
  /** <binary path>: the virtiofsd libvirt runs (libvirt finds one itself without it). */
  binary?: string;
  /** <source dir> on the host. */
  source: string;
  /** <target dir>: the mount tag the guest mounts it by. */
  tag: string;
  readonly: boolean;
  raw?: XmlNode;
}

/** A <console>: the template's serial one, and a virtio one (hvc0) for imageless guests. */
export interface DomainConsole {
  type: string;
  /** <target type>: "serial" or "virtio". */
  target?: string;
  raw?: XmlNode;
}

export interface DomainSerial {
  type: string;
  targetPort?: number;
  /** <log file append>; set on a serial read from a template, it is added to the element as read. */
  log?: { file: string; append?: 'on' | 'off' };
  raw?: XmlNode;
}

export interface DomainOs {
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** <boot dev> entries, in order. */
  boot: string[];
  /** <smbios mode>. */
  smbios?: string;
}

export interface DomainCpu {
  mode?: string;
  check?: string;
  migratable?: string;
  raw?: XmlNode;
}

export interface Domain {
  /** kvm or qemu (TCG). */
  type: string;
  name: string;
  uuid?: string;
  memoryKiB?: number;
  currentMemoryKiB?: number;
  vcpus?: number;
  /** flakevirt's mark, the live boot record, and the guest's checkpoints (absent: none). */
  metadata: { guest?: GuestMetadata; boot?: BootRecord; checkpoints?: CheckpointRecord[] };
  os: DomainOs;
  /** The SMBIOS OEM strings (<sysinfo type='smbios'><oemStrings><entry>). */
  oemStrings?: string[];
  cpu?: DomainCpu;
  /** <memoryBacking>: virtiofs needs memory QEMU can share with virtiofsd (source memfd, access shared). */
  memoryBacking?: { source?: string; access?: string; raw?: XmlNode };
  devices: { disks: DomainDisk[]; controllers: DomainController[]; interfaces: DomainInterface[]; serials: DomainSerial[]; consoles: DomainConsole[]; filesystems: DomainFilesystem[] };
  /** <qemu:commandline> arguments. */
  qemuArgs: string[];
  /** The parsed <domain> element as read (the template's other elements, in their order). */
  raw: XmlNode;
}

const UNIT_BYTES: Record<string, number> = { b: 1, bytes: 1, KB: 1e3, k: 1024, KiB: 1024, MB: 1e6, M: 1 << 20, MiB: 1 << 20, GB: 1e9, G: 1 << 30, GiB: 1 << 30, T: 2 ** 40, TiB: 2 ** 40 };

function num(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v);
}

function kib(n: XmlNode | undefined): number | undefined {
  const v = num(text(n));
  if (v === undefined) return undefined;
  return Math.floor((v * (UNIT_BYTES[attr(n, 'unit') ?? 'KiB'] ?? 1024)) / 1024);
}

/** The <metadata> child in namespace `ns` whose local name is `local` (any prefix), with that prefix. */
function inNamespace(metadata: XmlNode | undefined, local: string, ns: string): { value: XmlNode; prefix: string; key: string } | undefined {
  if (!metadata) return undefined;
  for (const [key, value] of Object.entries(metadata)) {
    if (!key.endsWith(`:${local}`) && key !== local) continue;
    if (!value || typeof value !== 'object') continue;
    if (!Object.entries(value).some(([k, v]) => k.startsWith('@_xmlns') && v === ns)) continue;
    return { value: value as XmlNode, prefix: key.includes(':') ? `${key.split(':')[0]}:` : '', key };
  }
  return undefined;
}

function parseGuestMetadata(metadata: XmlNode | undefined): GuestMetadata | undefined {
  const found = inNamespace(metadata, 'guest', METADATA_NS);
  if (!found) return undefined;
  const get = (name: string) => text(found.value, `${found.prefix}${name}`) ?? '';
  let state: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(get('state'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) state = parsed as Record<string, string>;
  } catch {
    state = {};
  }
  return { spec: get('spec'), fingerprint: get('fingerprint'), dir: get('dir'), base: get('base'), state };
}

/** The named attributes of a node, decoded, keyed as the record parsers take them ("@_name"). */
function attrsOf(n: XmlNode, names: readonly string[]): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  for (const k of names) {
    const v = attr(n, k);
    if (v !== undefined) a[`@_${k}`] = v;
  }
  return a;
}

function parseBoot(metadata: XmlNode | undefined): BootRecord | undefined {
  const found = inNamespace(metadata, 'boot', BOOT_NS);
  return found ? parseBootRecord(attrsOf(found.value, ['started', 'before', 'lease', 'log'])) : undefined;
}

function parseCheckpoints(metadata: XmlNode | undefined): CheckpointRecord[] | undefined {
  const found = inNamespace(metadata, 'checkpoints', CHECKPOINT_NS);
  if (!found) return undefined;
  const list = children(found.value, `${found.prefix}checkpoint`).flatMap((c) => {
    const r = parseCheckpointRecord(attrsOf(c, ['name', 'tag', 'taken', 'fingerprint', 'started', 'before', 'lease']));
    return r ? [r] : [];
  });
  return list.length ? list : undefined;
}

function parseSource(type: string | undefined, s: XmlNode | undefined): DomainDiskSource | undefined {
  if (!s) return undefined;
  if (type === 'file' && attr(s, 'file') !== undefined) {
    const sl = child(s, 'seclabel');
    return { type: 'file', file: attr(s, 'file')!, ...(sl && { seclabel: { model: attr(sl, 'model') ?? '', relabel: attr(sl, 'relabel') !== 'no' } }) };
  }
  if (type === 'block' && attr(s, 'dev') !== undefined) return { type: 'block', dev: attr(s, 'dev')! };
  if (type === 'volume') return { type: 'volume', pool: attr(s, 'pool') ?? '', volume: attr(s, 'volume') ?? '' };
  return { type: 'other', kind: type ?? '' };
}

function parseBacking(n: unknown): DomainBackingStore | 'none' | undefined {
  if (n === undefined) return undefined;
  const b = child({ b: n }, 'b');
  if (!b || Object.keys(b).every((k) => k === '#text' && !b[k])) return 'none';
  const source = parseSource(attr(b, 'type'), child(b, 'source')) ?? { type: 'other', kind: attr(b, 'type') ?? '' };
  const below = parseBacking(b.backingStore);
  return { format: attr(child(b, 'format'), 'type') ?? '', source, ...(below && { backingStore: below }) };
}

function parseDisk(n: XmlNode): DomainDisk {
  const t = child(n, 'target');
  const driver = child(n, 'driver');
  const io = child(n, 'blockio');
  const source = parseSource(attr(n, 'type'), child(n, 'source'));
  const backing = parseBacking(n.backingStore);
  const serial = text(n, 'serial');
  return {
    device: attr(n, 'device') ?? 'disk',
    ...(source && { source }),
    ...(driver && { driver: { name: attr(driver, 'name') ?? '', type: attr(driver, 'type') ?? '', ...opt('cache', attr(driver, 'cache')), ...opt('io', attr(driver, 'io')), ...opt('discard', attr(driver, 'discard')), ...opt('queues', num(attr(driver, 'queues'))) } }),
    ...(backing && { backingStore: backing }),
    target: { dev: attr(t, 'dev') ?? '', bus: attr(t, 'bus') ?? '' },
    ...(serial !== undefined && { serial }),
    ...(io && { blockio: { ...opt('logicalBlockSize', num(attr(io, 'logical_block_size'))), ...opt('physicalBlockSize', num(attr(io, 'physical_block_size'))) } }),
    raw: n,
  };
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

/** Parses domain XML (a template or `virsh dumpxml` output); undefined when it has no <domain>. */
export function parseDomain(xml: string): Domain | undefined {
  const root = parseXml(xml).domain;
  if (!root || typeof root !== 'object' || Array.isArray(root)) return undefined;
  const d = root as XmlNode;
  const os = child(d, 'os');
  const devices = child(d, 'devices');
  const metadata = child(d, 'metadata');
  const cpu = child(d, 'cpu');
  const memoryBacking = child(d, 'memoryBacking');
  const guest = parseGuestMetadata(metadata);
  const boot = parseBoot(metadata);
  const checkpoints = parseCheckpoints(metadata);
  const smbios = children(d, 'sysinfo').find((s) => attr(s, 'type') === 'smbios');
  const qemu = children(child(d, 'qemu:commandline'), 'qemu:arg').map((a) => attr(a, 'value') ?? '');
  return {
    type: attr(d, 'type') ?? '',
    name: text(d, 'name') ?? '',
    ...opt('uuid', text(d, 'uuid')),
    ...opt('memoryKiB', kib(child(d, 'memory'))),
    ...opt('currentMemoryKiB', kib(child(d, 'currentMemory'))),
    ...opt('vcpus', num(text(d, 'vcpu'))),
    metadata: { ...(guest && { guest }), ...(boot && { boot }), ...(checkpoints && { checkpoints }) },
    os: {
      ...opt('kernel', text(os, 'kernel')), ...opt('initrd', text(os, 'initrd')), ...opt('cmdline', text(os, 'cmdline')),
      boot: children(os, 'boot').map((b) => attr(b, 'dev') ?? ''),
      ...opt('smbios', attr(child(os, 'smbios'), 'mode')),
    },
    ...(smbios && { oemStrings: children(child(smbios, 'oemStrings'), 'entry').map((e) => text(e) ?? '') }),
    ...(cpu && { cpu: { ...opt('mode', attr(cpu, 'mode')), ...opt('check', attr(cpu, 'check')), ...opt('migratable', attr(cpu, 'migratable')), raw: cpu } }),
    ...(memoryBacking && { memoryBacking: { ...opt('source', attr(child(memoryBacking, 'source'), 'type')), ...opt('access', attr(child(memoryBacking, 'access'), 'mode')), raw: memoryBacking } }),
    devices: {
      filesystems: children(devices, 'filesystem').map((f) => ({
        driver: attr(child(f, 'driver'), 'type') ?? '', ...opt('queue', num(attr(child(f, 'driver'), 'queue'))), ...opt('binary', attr(child(f, 'binary'), 'path')),
        source: attr(child(f, 'source'), 'dir') ?? '', tag: attr(child(f, 'target'), 'dir') ?? '', readonly: child(f, 'readonly') !== undefined, raw: f,
      })),
      disks: children(devices, 'disk').map(parseDisk),
      controllers: children(devices, 'controller').map((c) => ({ type: attr(c, 'type') ?? '', ...opt('index', num(attr(c, 'index'))), ...opt('model', attr(c, 'model')), ...opt('serial', text(c, 'serial')), raw: c })),
      interfaces: children(devices, 'interface').map((i) => {
        const network = attr(i, 'type') === 'network' ? attr(child(i, 'source'), 'network') : undefined;
        return { type: attr(i, 'type') ?? '', ...opt('mac', attr(child(i, 'mac'), 'address')), ...opt('network', network), ...opt('model', attr(child(i, 'model'), 'type')), raw: i };
      }),
      consoles: children(devices, 'console').map((c) => ({ type: attr(c, 'type') ?? '', ...opt('target', attr(child(c, 'target'), 'type')), raw: c })),
      serials: children(devices, 'serial').map((s) => {
        const log = child(s, 'log');
        const append = attr(log, 'append');
        return {
          type: attr(s, 'type') ?? '', ...opt('targetPort', num(attr(child(s, 'target'), 'port'))),
          ...(log && attr(log, 'file') !== undefined && { log: { file: attr(log, 'file')!, ...((append === 'on' || append === 'off') && { append }) } }),
          raw: s,
        };
      }),
    },
    qemuArgs: qemu,
    raw: d,
  };
}

/** Every file a disk reads: its source and its backing chain. */
export function diskFiles(d: DomainDisk): string[] {
  const out: string[] = [];
  if (d.source?.type === 'file') out.push(d.source.file);
  for (let b = d.backingStore; b && b !== 'none'; b = b.backingStore) if (b.source.type === 'file') out.push(b.source.file);
  return out;
}

/**
 * Every host file the domain names: disk sources with their backing chains, the kernel and initrd,
 * the init= the kernel runs (an imageless guest's, in the host's store it is given), the
 * directories it shares, and the QEMU arguments as written (NVMe namespaces name their files there).
 */
export function domainFiles(d: Domain): string[] {
  const init = /(?:^|\s)init=(\S+)/.exec(d.os.cmdline ?? '')?.[1];
  return [
    ...d.devices.disks.flatMap(diskFiles),
    ...[d.os.kernel, d.os.initrd, init].filter((f): f is string => f !== undefined),
    ...d.devices.filesystems.map((f) => f.source),
    ...d.qemuArgs,
  ];
}

/** Bytes of the domain's <memory>. */
export function memoryBytes(d: Domain): number {
  return (d.memoryKiB ?? 0) * 1024;
}

// ---- building ----

function set(n: XmlNode, key: string, value: unknown): void {
  if (value === undefined) delete n[key];
  else n[key] = value;
}

function sourceNode(s: DomainDiskSource): XmlNode {
  switch (s.type) {
    case 'file': return { ...attrs({ file: s.file }), ...(s.seclabel && { seclabel: attrs({ model: s.seclabel.model, relabel: s.seclabel.relabel ? 'yes' : 'no' }) }) };
    case 'block': return attrs({ dev: s.dev });
    case 'volume': return attrs({ pool: s.pool, volume: s.volume });
    case 'other': throw new Error(`internal: a ${s.kind} disk source is only kept as read`);
  }
}

function backingNode(b: DomainBackingStore | 'none'): XmlNode | string {
  if (b === 'none') return '';
  return {
    ...attrs({ type: b.source.type }),
    format: attrs({ type: b.format }),
    source: sourceNode(b.source),
    ...(b.backingStore !== undefined && { backingStore: backingNode(b.backingStore) }),
  };
}

function diskNode(d: DomainDisk): XmlNode {
  if (d.raw) return d.raw;
  const v = d.driver;
  return {
    ...attrs({ type: d.source?.type, device: d.device }),
    ...(v && { driver: attrs({ name: v.name, type: v.type, cache: v.cache, io: v.io, discard: v.discard, queues: v.queues }) }),
    ...(d.source && { source: sourceNode(d.source) }),
    ...(d.backingStore !== undefined && { backingStore: backingNode(d.backingStore) }),
    target: attrs({ dev: d.target.dev, bus: d.target.bus }),
    ...(d.serial !== undefined && { serial: textNode(d.serial) }),
    ...(d.blockio && { blockio: attrs({ logical_block_size: d.blockio.logicalBlockSize, physical_block_size: d.blockio.physicalBlockSize }) }),
  };
}

function controllerNode(c: DomainController): XmlNode {
  if (c.raw) return c.raw;
  return { ...attrs({ type: c.type, index: c.index, model: c.model }), ...(c.serial !== undefined && { serial: textNode(c.serial) }) };
}

function interfaceNode(i: DomainInterface): XmlNode {
  if (i.raw) return i.raw;
  return {
    ...attrs({ type: i.type }),
    ...(i.mac && { mac: attrs({ address: i.mac }) }),
    ...(i.network !== undefined && { source: attrs({ network: i.network }) }),
    ...(i.model && { model: attrs({ type: i.model }) }),
  };
}

function serialNode(s: DomainSerial): XmlNode {
  const n: XmlNode = s.raw ? { ...s.raw } : { ...attrs({ type: s.type }), ...(s.targetPort !== undefined && { target: attrs({ port: s.targetPort }) }) };
  if (s.log) n.log = attrs({ file: s.log.file, append: s.log.append });
  return n;
}

function consoleNode(c: DomainConsole): XmlNode {
  return c.raw ?? { ...attrs({ type: c.type }), ...(c.target !== undefined && { target: attrs({ type: c.target }) }) };
}

function filesystemNode(f: DomainFilesystem): XmlNode {
  if (f.raw) return f.raw;
  return {
    ...attrs({ type: 'mount', accessmode: 'passthrough' }),
    driver: attrs({ type: f.driver, queue: f.queue }),
    ...(f.binary !== undefined && { binary: attrs({ path: f.binary }) }),
    source: attrs({ dir: f.source }),
    target: attrs({ dir: f.tag }),
    ...(f.readonly && { readonly: '' }),
  };
}

function metadataNode(d: Domain): XmlNode | undefined {
  const raw = { ...(child(d.raw, 'metadata') ?? {}) };
  delete raw['#text'];
  const old = inNamespace(raw, 'guest', METADATA_NS);
  if (old) delete raw[old.key];
  const g = d.metadata.guest;
  if (g) {
    raw['flakevirt:guest'] = {
      '@_xmlns:flakevirt': METADATA_NS,
      'flakevirt:spec': textNode(g.spec),
      'flakevirt:fingerprint': textNode(g.fingerprint),
      'flakevirt:dir': textNode(g.dir),
      'flakevirt:base': textNode(g.base),
      'flakevirt:state': textNode(JSON.stringify(g.state)),
    };
  }
  return Object.keys(raw).length ? raw : undefined;
}

/** Domain XML for a typed domain (the live boot record is not written: virsh metadata sets it). */
export function buildDomain(d: Domain): string {
  const n: XmlNode = { ...d.raw };
  n['@_type'] = attrs({ type: d.type })['@_type'];
  n.name = textNode(d.name);
  set(n, 'uuid', d.uuid !== undefined ? textNode(d.uuid) : undefined);
  set(n, 'memory', d.memoryKiB !== undefined ? textNode(d.memoryKiB, { unit: 'KiB' }) : undefined);
  set(n, 'currentMemory', d.currentMemoryKiB !== undefined ? textNode(d.currentMemoryKiB, { unit: 'KiB' }) : undefined);
  set(n, 'vcpu', d.vcpus !== undefined ? textNode(d.vcpus, { placement: 'static' }) : undefined);
  set(n, 'metadata', metadataNode(d));

  const os: XmlNode = { ...(child(d.raw, 'os') ?? {}) };
  for (const k of ['kernel', 'initrd', 'cmdline'] as const) set(os, k, d.os[k] !== undefined ? textNode(d.os[k]!) : undefined);
  set(os, 'boot', d.os.boot.length ? d.os.boot.map((dev) => attrs({ dev })) : undefined);
  set(os, 'smbios', d.os.smbios !== undefined ? attrs({ mode: d.os.smbios }) : undefined);
  n.os = os;
  set(n, 'sysinfo', d.oemStrings ? [{ ...attrs({ type: 'smbios' }), oemStrings: { entry: d.oemStrings.map((e) => textNode(e)) } }] : undefined);
  set(n, 'cpu', d.cpu ? (d.cpu.raw ?? attrs({ mode: d.cpu.mode, check: d.cpu.check, migratable: d.cpu.migratable })) : undefined);
  set(n, 'memoryBacking', d.memoryBacking ? (d.memoryBacking.raw ?? {
    ...(d.memoryBacking.source && { source: attrs({ type: d.memoryBacking.source }) }),
    ...(d.memoryBacking.access && { access: attrs({ mode: d.memoryBacking.access }) }),
  }) : undefined);

  const devices: XmlNode = { ...(child(d.raw, 'devices') ?? {}) };
  const lists: Array<[string, XmlNode[]]> = [
    ['disk', d.devices.disks.map(diskNode)],
    ['controller', d.devices.controllers.map(controllerNode)],
    ['interface', d.devices.interfaces.map(interfaceNode)],
    ['serial', d.devices.serials.map(serialNode)],
    ['console', d.devices.consoles.map(consoleNode)],
    ['filesystem', d.devices.filesystems.map(filesystemNode)],
  ];
  for (const [k, list] of lists) set(devices, k, list.length ? list : undefined);
  n.devices = devices;
  if (d.qemuArgs.length) {
    n['@_xmlns:qemu'] = QEMU_NS;
    n['qemu:commandline'] = { ...(child(d.raw, 'qemu:commandline') ?? {}), 'qemu:arg': d.qemuArgs.map((value) => attrs({ value })) };
  } else {
    delete n['qemu:commandline'];
  }
  return buildXml({ domain: n });
}
