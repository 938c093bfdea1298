// A copy of the built bin, launcher and bundle (src/launch.ts runs them) to attack or damage
// without touching dist/, and a code cache for it that only its digest makes look right.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE, CACHE_TAG, CODE_CACHE, WRAPPER } from '../../src/launch.js';
import { REPO_ROOT } from './fixtures.js';

export const DIST = join(REPO_ROOT, 'dist');

/** dist/'s bin, launcher and bundle (and, unless told otherwise, its cache) under a package.json of version 0.0.0-copy, made in `parent`. */
export function copyOfDist(withCache = true, parent = tmpdir()): string {
  const root = mkdtempSync(join(parent, 'flakevirt-launch-'));
  mkdirSync(join(root, 'dist'));
  // The bin reads its version from the package.json above it: a distinct one shows which ran.
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', version: '0.0.0-copy' }));
  for (const f of ['cli.js', 'launch.js', BUNDLE, ...(withCache ? [CODE_CACHE] : [])]) copyFileSync(join(DIST, f), join(root, 'dist', f));
  return root;
}

/** Where V8's data starts in a cache file: after the header line. */
export function v8DataStart(cache: Buffer): number {
  return cache.indexOf(10) + 1;
}

/** A copy of V8's cache data with its payload damaged (its own header kept, so V8 reads on and crashes). */
export function damagedData(v8Data: Buffer): Buffer {
  const data = Buffer.from(v8Data);
  for (let i = 64; i < data.length; i += 97) data[i] ^= 0x5a;
  return data;
}

/**
 * A cache file for the bundle in `root`/dist whose digest is right, holding the built cache's V8
 * data damaged: what anyone who can write the file can make. V8, handed it, crashes.
 */
export function forgedCache(root: string): Buffer {
  const built = readFileSync(join(DIST, CODE_CACHE));
  const data = damagedData(built.subarray(v8DataStart(built)));
  const digest = createHash('sha256').update(WRAPPER.join('')).update(readFileSync(join(root, 'dist', BUNDLE))).update(data).digest('hex');
  return Buffer.concat([Buffer.from(`${CACHE_TAG}${digest}\n`, 'latin1'), data]);
}
