// Answers worth keeping between runs (what a host offers, what an image is), in flakevirt's own cache
// directory: one JSON file per key, in a directory of flakevirt's own (0700, see private-dir.ts).
// A cache in a directory anyone else could write is not believed (a planted entry would change what
// flakevirt refuses or defines), and then nothing is kept. The key holds everything the answer
// depends on, so an entry is never stale: a changed input is a different key.
import { readFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { cacheDir, privateDir, writeOwnFile } from './private-dir.js';

/** `area`'s directory in the cache when it can be trusted, else undefined (then nothing is kept). */
export function areaDir(area: string): string | undefined {
  try {
    return privateDir(join(cacheDir(), area));
  } catch {
    return undefined;
  }
}

function fileFor(dir: string, key: string): string {
  return join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
}

/**
 * The value kept for `key` in `area`, or what `compute` returns (then kept, unless `keep` says no).
 * Without a key (an input that cannot be identified) nothing is read or kept.
 */
export async function cachedJson<T>(area: string, key: string | undefined, compute: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
  if (key === undefined) return compute();
  const dir = areaDir(area);
  if (dir) {
    const hit = await readFile(fileFor(dir, key), 'utf8').then((t) => JSON.parse(t) as { key: string; value: T }, () => undefined);
    if (hit && hit.key === key) return hit.value;
  }
  const value = await compute();
  if (dir && keep(value)) await writeOwnFile(fileFor(dir, key), JSON.stringify({ key, value }), 0o600).catch(() => undefined);
  return value;
}

/** What identifies a file's content without reading it: device, inode, size and change times (undefined: no such file). */
export async function fileIdentity(path: string): Promise<string | undefined> {
  const { stat } = await import('node:fs/promises');
  const st = await stat(path, { bigint: true }).catch(() => undefined);
  return st ? `${path}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : undefined;
}

/** The same, synchronously: for thousands of files at once (a kernel's modules), twice as fast. */
export function fileIdentitySync(path: string): string | undefined {
  const st = statSync(path, { bigint: true, throwIfNoEntry: false });
  return st ? `${path}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : undefined;
}
