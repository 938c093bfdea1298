// Reads flakevirt's ownership mark back out of a domain's XML. Pure.
import { XMLParser } from 'fast-xml-parser';
import { METADATA_NS } from './render/domain.js';
import type { GuestState } from './render/state.js';

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
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, isArray: (n) => ['interface', 'serial'].includes(n) });

/** Extracts ownership, MACs and the console log path from `virsh dumpxml` output. */
export function domainFacts(xml: string): DomainFacts {
  const domain = (parser.parse(xml) as { domain?: Record<string, any> }).domain ?? {};
  const macs = ((domain.devices?.interface ?? []) as Array<{ mac?: { '@_address'?: string } }>)
    .map((i) => i.mac?.['@_address']?.toLowerCase())
    .filter((m): m is string => !!m);
  const networks = ((domain.devices?.interface ?? []) as Array<{ '@_type'?: string; source?: { '@_network'?: string } }>)
    .filter((i) => i['@_type'] === 'network' && i.source?.['@_network'])
    .map((i) => i.source!['@_network']!);
  const consoleLog = (domain.devices?.serial ?? [])[0]?.log?.['@_file'] as string | undefined;
  return { owner: owner(domain.metadata), macs, networks: [...new Set(networks)], ...(consoleLog && { consoleLog }) };
}

function owner(metadata: unknown): Ownership | undefined {
  if (!metadata || typeof metadata !== 'object') return undefined;
  for (const [key, value] of Object.entries(metadata as Record<string, any>)) {
    if (!key.endsWith(':guest') && key !== 'guest') continue;
    const nsAttr = Object.entries(value ?? {}).find(([k, v]) => k.startsWith('@_xmlns') && v === METADATA_NS);
    if (!nsAttr) continue;
    const prefix = key.includes(':') ? `${key.split(':')[0]}:` : '';
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
  return undefined;
}
