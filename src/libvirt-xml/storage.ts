// libvirt storage XML: a pool as `virsh pool-dumpxml` prints it (read) and a volume for
// `virsh vol-create` (built).
import { xmlEscape as x } from '../escape/xml.js';
import { attrs, buildXml, child, parseXml, text, textNode } from './tree.js';

export interface Pool {
  /** <target><path>. */
  targetPath?: string;
}

export interface Volume {
  name: string;
  capacityBytes: number;
  allocationBytes: number;
  format: string;
  permissions: { mode: string; owner?: number; group?: number };
  backing?: { path: string; format: string };
}

export function parsePool(xml: string): Pool {
  const path = text(child(child(parseXml(xml).pool, 'target'), 'path'));
  return path !== undefined ? { targetPath: path } : {};
}

export function buildVolume(v: Volume): string {
  return buildXml({
    volume: {
      name: textNode(v.name),
      capacity: textNode(v.capacityBytes, { unit: 'bytes' }),
      allocation: textNode(v.allocationBytes, { unit: 'bytes' }),
      target: { format: attrs({ type: v.format }), permissions: { mode: x(v.permissions.mode), ...(v.permissions.owner !== undefined && { owner: x(v.permissions.owner), group: x(v.permissions.group ?? v.permissions.owner) }) } },
      ...(v.backing && { backingStore: { path: x(v.backing.path), format: attrs({ type: v.backing.format }) } }),
    },
  });
}
