// The placement record on the controller (POOL/.placement.json): where earlier runs put each guest
// and what each host offered, so a guest never moves and placement stays the same while a host is
// unreachable.
import { readFile } from 'node:fs/promises';
import { ownDir, writeOwnFile } from './private-dir.js';

export interface PlacementRecord {
  /** Guest name → host name. */
  guests: Record<string, string>;
  /** libvirt URI → memory (bytes) flakevirt could use there when last seen. */
  capacity: Record<string, number>;
}

export function recordPath(pool: string): string {
  return `${pool.replace(/\/+$/, '')}/.placement.json`;
}

export async function readRecord(pool: string): Promise<PlacementRecord> {
  try {
    const r = JSON.parse(await readFile(recordPath(pool), 'utf8')) as Partial<PlacementRecord>;
    return { guests: r.guests ?? {}, capacity: r.capacity ?? {} };
  } catch {
    return { guests: {}, capacity: {} };
  }
}

export async function writeRecord(pool: string, r: PlacementRecord): Promise<void> {
  ownDir(pool.replace(/\/+$/, ''), 0o755);
  await writeOwnFile(recordPath(pool), `${JSON.stringify(r, null, 2)}\n`);
}
