// flakevirt's ownership mark (and the few device facts read commands need), read from a domain's
// XML through the typed reader (libvirt-xml/domain.ts). Pure.
import { memoryBytes, parseDomain, type GuestMetadata } from './libvirt-xml/domain.js';
import type { BootRecord } from './render/boot-record.js';
import type { CheckpointRecord } from './render/checkpoint-record.js';

export type Ownership = GuestMetadata;

export interface DomainFacts {
  /** flakevirt's metadata, or undefined for a domain flakevirt did not create. */
  owner?: Ownership;
  macs: string[];
  /** Networks of its network-type interfaces. */
  networks: string[];
  consoleLog?: string;
  /** The running boot's record (live metadata), when flakevirt started this boot. */
  boot?: BootRecord;
  /** Bytes of its <memory>. */
  memoryBytes: number;
  /** Its checkpoints (`flakevirt checkpoint`), when it has any. */
  checkpoints?: CheckpointRecord[];
}

/** Extracts ownership, MACs, networks and the console log path from `virsh dumpxml` output. */
export function domainFacts(xml: string): DomainFacts {
  const d = parseDomain(xml);
  if (!d) return { macs: [], networks: [], memoryBytes: 0 };
  const interfaces = d.devices.interfaces;
  const consoleLog = d.devices.serials[0]?.log?.file;
  const { guest, boot, checkpoints } = d.metadata;
  return {
    ...(guest && { owner: guest }),
    macs: interfaces.flatMap((i) => (i.mac ? [i.mac.toLowerCase()] : [])),
    networks: [...new Set(interfaces.flatMap((i) => (i.network !== undefined ? [i.network] : [])))],
    ...(consoleLog && { consoleLog }),
    ...(boot && { boot }),
    memoryBytes: memoryBytes(d),
    ...(checkpoints && { checkpoints }),
  };
}
