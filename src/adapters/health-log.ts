// The kernel's health in a guest's current boot, read from its console log (src/health/reports.ts
// says what a report is). Read commands run all day: what was scanned is kept per libvirt URI in
// flakevirt's private cache (area `kernel-health`), so a `list` reads only what the log gained since
// the last one, never a multi-megabyte log from its start. An area others can write is not believed.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyScan, healthOf, scanLog, type Health, type ScanState } from '../health/reports.js';
import type { GuestPaths } from '../render/paths.js';
import type { ConsoleChunk, GuestStore } from './store.js';
import { areaDir } from './file-cache.js';
import { writeOwnFile } from './private-dir.js';

const VERSION = 2; // 2: reports carry their source

/** Which boot of a log to read. */
export interface BootRegion {
  /** Changes with every start of the domain (its boot record), or undefined for a domain that is not running: then the log's last boot. */
  started?: number;
  /** Where the boot starts in the log (a reset goes on in the same file). */
  from: number;
}

/** The region of a domain's boot record (a running domain), or the log's last boot (none). */
export function bootRegion(boot: { startedAt: number; logFrom?: number } | undefined): BootRegion {
  return boot ? { started: boot.startedAt, from: boot.logFrom ?? 0 } : { from: 0 };
}

interface Kept {
  /** The boot it describes, and the file's identity and size when read. */
  key: string;
  id?: string;
  mtimeMs?: number;
  /** Where the next read goes on (after the last complete line), and the file's size then. */
  end: number;
  size: number;
  scan: ScanState;
}

interface Reader {
  readConsoleFrom(paths: GuestPaths, from: number): Promise<ConsoleChunk | undefined>;
}

/** Scans the part of the log the kept state has not seen; undefined when the log cannot be read. */
async function advance(store: Reader, paths: GuestPaths, region: BootRegion, kept: Kept | undefined, excerpts: boolean): Promise<Kept | undefined> {
  const key = region.started === undefined ? 'last' : `boot ${region.started} ${region.from}`;
  const fresh = (): Kept => ({ key, end: region.from, size: 0, scan: emptyScan(region.from) });
  let base = kept && kept.key === key && !excerpts ? kept : fresh();
  let chunk = await store.readConsoleFrom(paths, base.end);
  if (!chunk) return undefined;
  if (kept && base === kept) {
    const otherFile = chunk.id !== undefined && kept.id !== undefined && chunk.id !== kept.id;
    if (region.started === undefined ? otherFile || chunk.size !== kept.size || chunk.mtimeMs !== kept.mtimeMs : !otherFile && chunk.size < kept.end) {
      // A log nobody writes now that changed (a later run wrote it), or one that shrank: read again.
      base = fresh();
      chunk = await store.readConsoleFrom(paths, base.end);
    } else if (otherFile) {
      // Another file under the name in the same boot: virtlogd rotated the log, the boot goes on
      // in a new file from its first byte.
      base = { ...kept, end: 0 };
      chunk = await store.readConsoleFrom(paths, 0);
    }
    if (!chunk) return undefined;
  }
  const { state, end } = scanLog(chunk.text, chunk.size - chunk.text.length, base.scan, { excerpts });
  return { key, ...(chunk.id !== undefined && { id: chunk.id }), ...(chunk.mtimeMs !== undefined && { mtimeMs: chunk.mtimeMs }), end, size: chunk.size, scan: state };
}

/**
 * Follows one boot's log while it is being written (up waiting for a lease): each call reads what
 * came since the last one; `reports()` reads the boot again with the traces, for a message.
 */
export function followBoot(store: Reader, paths: GuestPaths, region: BootRegion): { health(): Promise<Health | undefined>; reports(): Promise<ScanState | undefined> } {
  let kept: Kept | undefined;
  return {
    async health() {
      kept = (await advance(store, paths, region, kept, false).catch(() => undefined)) ?? kept;
      return kept && healthOf(kept.scan);
    },
    reports: () => bootReports(store, paths, region).catch(() => undefined),
  };
}

/** The current boot's reports with their traces (for `health` and `up`'s messages): always read afresh. */
export async function bootReports(store: Reader, paths: GuestPaths, region: BootRegion): Promise<ScanState | undefined> {
  return (await advance(store, paths, region, undefined, true))?.scan;
}

export interface HealthQuery {
  store: Pick<GuestStore, 'readConsoleFrom'>;
  paths: GuestPaths;
  region: BootRegion;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The health of each guest's current boot (in order; undefined where the log cannot be read), from what was kept where it can. */
export async function healthOfLogs(uri: string, queries: HealthQuery[]): Promise<Array<Health | undefined>> {
  if (!queries.length) return [];
  const d = areaDir('kernel-health');
  const file = d && join(d, `${sha(uri).slice(0, 32)}.json`);
  const kept = file ? await readFile(file, 'utf8').then((t) => JSON.parse(t) as { version: number; uri: string; logs: Record<string, Kept> }, () => undefined) : undefined;
  const known = kept?.version === VERSION && kept.uri === uri ? kept.logs : {};
  const now: Record<string, Kept> = {};
  const out = await Promise.all(queries.map(async (q) => {
    const before = known[q.paths.console];
    const k = await advance(q.store, q.paths, q.region, before, false).catch(() => undefined);
    if (!k) return undefined;
    now[q.paths.console] = k;
    return healthOf(k.scan);
  }));
  const changed = Object.keys(now).length !== Object.keys(known).length || Object.entries(now).some(([p, k]) => JSON.stringify(known[p]) !== JSON.stringify(k));
  if (file && changed) await writeOwnFile(file, JSON.stringify({ version: VERSION, uri, logs: now }), 0o600).catch(() => undefined);
  return out;
}
