// A guest's directory in the pool and its manifest: the list of files flakevirt made there.
// The manifest is written before any disk, so `down` can always find and remove exactly those.
import { readFile, rm, rmdir, readdir } from 'node:fs/promises';
import { ownDir, writeOwnFile } from './private-dir.js';
import { guestPaths, type DirPaths } from '../render/paths.js';

export const MANIFEST_VERSION = 1;

export interface Manifest {
  flakevirt: number;
  guest: string;
  spec: string;
  files: string[];
}

export async function readManifest(paths: DirPaths): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await readFile(paths.manifest, 'utf8')) as Manifest;
    return m.flakevirt === MANIFEST_VERSION && Array.isArray(m.files) ? m : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(paths: DirPaths, m: Manifest): Promise<void> {
  ownDir(paths.dir, 0o755); // a symlink or someone else's directory here is refused, never followed
  await writeOwnFile(paths.manifest, `${JSON.stringify(m, null, 2)}\n`);
}

/** Removes files left half-made by an interrupted run (call with the guest's lock held). */
export async function removePartials(paths: DirPaths): Promise<string[]> {
  const names = (await readdir(paths.dir).catch(() => [] as string[])).filter((n) => /\.partial-\d+$/.test(n));
  for (const n of names) await rm(`${paths.dir}/${n}`, { force: true });
  return names;
}

/** A plain file name directly inside the guest's directory (no "..", no subdirectory). */
export function isOwnFile(paths: DirPaths, f: string): boolean {
  const name = f.slice(paths.dir.length + 1);
  return f.startsWith(`${paths.dir}/`) && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name);
}

/** Deletes the files the manifest lists and the leftovers of interrupted creations, then the directory if empty. */
export async function removeGuestDir(paths: DirPaths, manifest: Manifest | undefined): Promise<string[]> {
  const files = new Set([...(manifest?.files ?? []), paths.console]);
  const removed: string[] = [];
  for (const f of files) {
    if (!isOwnFile(paths, f)) continue; // never outside the guest's own directory
    await rm(f, { force: true });
    removed.push(f);
  }
  await removePartials(paths);
  await rm(paths.manifest, { force: true });
  await rmdir(paths.dir).catch(() => undefined);
  return removed;
}

/** Guest directories in the pool that carry a manifest (for `down --all` to find orphans). */
export async function ownedGuestDirs(pool: string): Promise<Array<{ name: string; paths: DirPaths; manifest: Manifest }>> {
  const names = await readdir(pool).catch(() => [] as string[]);
  const out = [];
  for (const name of names) {
    const paths = guestPaths(pool, name);
    const manifest = await readManifest(paths);
    if (manifest && manifest.guest === name) out.push({ name, paths, manifest });
  }
  return out;
}
