// Reads flakevirt's ownership mark (and the few device facts read commands need) back out of a
// domain's XML. Pure. Only the small parts are parsed — <metadata>, <interface>, <serial> — since
// parsing every full domain document dominated `list` on a host with many domains.
import { XMLParser } from 'fast-xml-parser';
import { METADATA_NS } from './render/domain.js';
import type { GuestState } from './render/state.js';
import { BOOT_NS, parseBootRecord, type BootRecord } from './render/boot-record.js';

export interface Ownership {
  spec: string;
  fingerprint: string;
  dir: string;
  base: string;
  state: GuestState;
}

export interface DomainFacts {
  /** flakevirt's metadata, or undefined for a domain flakevirt did not create. */
  owner?: Ownership;
  macs: string[];
  /** Networks of its network-type interfaces. */
  networks: string[];
  consoleLog?: string;
  /** The running boot's record (live metadata), when flakevirt started this boot. */
  boot?: BootRecord;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false });

/**
 * Every `<tag attr=…>…</tag>` (or self-closed) element of that name that has attributes, as text.
 * Requiring attributes keeps a disk's `<serial>fv-vdb</serial>` from passing for the serial device
 * `<serial type='pty'>` (libvirt lists disks first).
 */
function elements(xml: string, tag: string): string[] {
  return xml.match(new RegExp(`<${tag}\\s[^>]*?(?:/>|>[\\s\\S]*?</${tag}>)`, 'g')) ?? [];
}

/** Extracts ownership, MACs, networks and the console log path from `virsh dumpxml` output. */
export function domainFacts(xml: string): DomainFacts {
  const macs: string[] = [];
  const networks = new Set<string>();
  for (const block of elements(xml, 'interface')) {
    const i = (parser.parse(block) as { interface?: Record<string, any> }).interface ?? {};
    const mac = i.mac?.['@_address'];
    if (typeof mac === 'string') macs.push(mac.toLowerCase());
    if (i['@_type'] === 'network' && typeof i.source?.['@_network'] === 'string') networks.add(i.source['@_network']);
  }
  const serial = elements(xml, 'serial')[0];
  const consoleLog = serial ? ((parser.parse(serial) as { serial?: Record<string, any> }).serial?.log?.['@_file'] as string | undefined) : undefined;
  const metadata = /<metadata>[\s\S]*?<\/metadata>/.exec(xml)?.[0];
  const meta = metadata ? (parser.parse(metadata) as { metadata?: unknown }).metadata : undefined;
  const boot = bootRecord(meta);
  return { owner: owner(meta), macs, networks: [...networks], ...(consoleLog && { consoleLog }), ...(boot && { boot }) };
}

/** The child of <metadata> in namespace `ns` whose local name is `local`, with its prefix. */
function inNamespace(metadata: unknown, local: string, ns: string): { value: Record<string, any>; prefix: string } | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  for (const [key, value] of Object.entries(metadata as Record<string, any>)) {
    if (!key.endsWith(`:${local}`) && key !== local) continue;
    if (!value || typeof value !== 'object') continue;
    if (!Object.entries(value).some(([k, v]) => k.startsWith('@_xmlns') && v === ns)) continue;
    return { value, prefix: key.includes(':') ? `${key.split(':')[0]}:` : '' };
  }
  return undefined;
}

function bootRecord(metadata: unknown): BootRecord | undefined {
  const found = inNamespace(metadata, 'boot', BOOT_NS);
  return found ? parseBootRecord(found.value) : undefined;
}

function owner(metadata: unknown): Ownership | undefined {
  const found = inNamespace(metadata, 'guest', METADATA_NS);
  if (!found) return undefined;
  const { value, prefix } = found;
  const get = (name: string) => {
    const v = value[`${prefix}${name}`];
    return typeof v === 'string' ? v : typeof v?.['#text'] === 'string' ? v['#text'] : '';
  };
  let state: GuestState = {};
  try {
    state = JSON.parse(get('state')) as GuestState;
  } catch {
    state = {};
  }
  return { spec: get('spec'), fingerprint: get('fingerprint'), dir: get('dir'), base: get('base'), state };
}
