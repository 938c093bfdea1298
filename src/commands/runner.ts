// Runs one operation per guest concurrently, reports progress per guest, and summarises.
// One guest's failure never hides another's result; the exit code says whether all succeeded.
import { SpecError, RefusedError, runExitCode } from '../errors.js';
import { ProgressView } from './progress-view.js';

export interface GuestResult {
  name: string;
  ok: boolean;
  /** What happened: "created", "up to date", "removed", … */
  outcome: string;
  ip?: string;
  /** The host the guest runs on (multi-host fleets). */
  host?: string;
  changes?: string[];
  /** What the guest should be looked at for although it is up (kernel reports in this boot). */
  warnings?: string[];
  error?: string;
  /** The failure was about the spec (exit code 2), not about running it. */
  specError?: boolean;
  seconds: number;
}

export type Progress = (stage: string) => void;

export interface RunOptions {
  json?: boolean;
  quiet?: boolean;
}

export async function forEachGuest<T extends { name: string }>(
  items: T[],
  op: (item: T, progress: Progress) => Promise<Omit<GuestResult, 'name' | 'ok' | 'seconds'>>,
  opts: RunOptions = {},
  given?: ProgressView,
): Promise<GuestResult[]> {
  const view = given ?? new ProgressView(opts.quiet || opts.json);
  if (!given) await view.start();
  const errors = new Map<string, unknown>();
  const results = await Promise.all(items.map(async (item): Promise<GuestResult> => {
    const started = Date.now();
    const progress = view.for(item.name);
    try {
      const r = await op(item, progress);
      view.end(item.name, r.ip ? `${r.outcome}, ${r.ip}` : r.outcome);
      return { name: item.name, ok: true, seconds: (Date.now() - started) / 1000, ...r };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      view.end(item.name, 'failed');
      if (!(e instanceof SpecError) && !(e instanceof RefusedError) && !(e instanceof Error && e.name === 'ToolError') && process.env.FLAKEVIRT_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
      errors.set(item.name, e);
      return { name: item.name, ok: false, outcome: 'failed', error, seconds: (Date.now() - started) / 1000, ...(e instanceof SpecError && { specError: true }) };
    }
  }));
  if (!given) view.finish();
  const code = runExitCode([...errors.values()]);
  if (code) process.exitCode = code;
  return results;
}

/** The end-of-run table: one line per guest on stdout, errors in full on stderr. */
export function printResults(results: GuestResult[], { json = false, showHost = false } = {}): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  const w = Math.max(4, ...results.map((r) => r.name.length));
  const hw = Math.max(4, ...results.map((r) => (r.host ?? '-').length));
  for (const r of results) {
    const on = showHost ? `${(r.host ?? '-').padEnd(hw)}  ` : '';
    const line = `${r.name.padEnd(w)}  ${on}${(r.ip ?? '-').padEnd(15)}  ${r.outcome} (${r.seconds.toFixed(1)} s)`;
    process.stdout.write(`${line}\n`);
    for (const c of r.changes ?? []) process.stdout.write(`${' '.repeat(w)}    changed: ${c}\n`);
    for (const c of r.warnings ?? []) process.stdout.write(`${' '.repeat(w)}    warning: ${c}\n`);
  }
  for (const r of results.filter((x) => !x.ok)) process.stderr.write(`flakevirt: ${r.name}: ${r.error}\n`);
}
