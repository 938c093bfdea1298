// What dist/cli.js (the bin) runs: the whole CLI is one CommonJS bundle, dist/flakevirt.cjs, which
// Node would compile from source on every command (a quarter to a third of a `list` or a no-op
// `up`). It is compiled here instead with V8's code cache for it, dist/flakevirt.cjs.cache, made
// at build time by scripts/code-cache.mjs and trusted like the code next to it: flakevirt never
// writes it at run time, never reads one from anywhere else, nor one another user can write. V8
// refuses a cache made by another Node or with other V8 flags (then the bundle is compiled as
// without one), and the cache carries the SHA-256 of the exact bundle it was made from and of
// itself, so an edited bundle never runs stale code and a damaged cache is not used.
// FLAKEVIRT_CODE_CACHE=0 compiles without it.
import { createHash, type Hash } from 'node:crypto';
import { isAscii } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname } from 'node:path';
import vm from 'node:vm';

export const BUNDLE = 'flakevirt.cjs';
export const CODE_CACHE = 'flakevirt.cjs.cache';
/**
 * The cache file: this tag, the SHA-256 (hex) of the wrapper, the bundle's bytes and V8's data, a
 * newline, then V8's data. V8 itself checks only its version, its flags and the source's length, and
 * a damaged cache crashes Node (V8 verifies no checksum outside debug builds): the digest covers both.
 */
export const CACHE_TAG = 'flakevirt-code-cache 1 ';
const HEADER = CACHE_TAG.length + 64 + 1;

/** The bundle's parameters besides CommonJS's own: what its `import.meta` stands for (scripts/bundle.mjs defines them). */
export const WRAPPER = ['(function (exports, require, module, __filename, __dirname, __flakevirtUrl, __flakevirtResolve) {', '\n})'] as const;

export interface CompiledBundle {
  script: vm.Script;
  /** The hash of the wrapper and the bundle's bytes so far, which the cache's digest continues (made when first asked for: without a cache nothing needs it). */
  bundleHash: () => Hash;
  /** true: V8 refused the cache; false: it used it; undefined: there was none, or it was made from another bundle, or damaged. */
  rejected: boolean | undefined;
}

/** The bundle `file` compiled, with `cache` (a cache file's bytes) where it was made from this very bundle and is whole. */
export function compileBundle(file: string, cache: Buffer | undefined): CompiledBundle {
  const bytes = readFileSync(file);
  // esbuild writes ASCII (scripts/bundle.mjs): decoding it as Latin-1 gives the same string in a third of the time.
  const source = `${WRAPPER[0]}${isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')}${WRAPPER[1]}`;
  let hash: Hash | undefined;
  const bundleHash = () => (hash ??= createHash('sha256').update(WRAPPER.join('')).update(bytes));
  let cachedData: Buffer | undefined;
  if (cache && cache.length > HEADER && cache.toString('latin1', 0, CACHE_TAG.length) === CACHE_TAG) {
    const data = cache.subarray(HEADER);
    if (cache.toString('latin1', CACHE_TAG.length, HEADER) === `${bundleHash().copy().update(data).digest('hex')}\n`) cachedData = data;
  }
  const script = new vm.Script(source, { filename: file, cachedData });
  return { script, bundleHash, rejected: cachedData ? script.cachedDataRejected === true : undefined };
}

/** V8's code cache for everything `compiled` has compiled so far, in the cache file's format. */
export function cacheFileData(compiled: CompiledBundle): Buffer {
  const data = compiled.script.createCachedData();
  return Buffer.concat([Buffer.from(`${CACHE_TAG}${compiled.bundleHash().copy().update(data).digest('hex')}\n`, 'latin1'), data]);
}

/** Runs the compiled bundle as the CommonJS module `file`, with `resolve` standing in for its import.meta.resolve. */
export function runBundle(compiled: CompiledBundle, file: string, resolve: (specifier: string) => string): void {
  const fn = compiled.script.runInThisContext() as (...args: unknown[]) => void;
  const mod = new Module(file);
  mod.filename = file;
  const require = createRequire(file);
  fn.call(mod.exports, mod.exports, require, mod, file, dirname(file), pathToFileURL(file).href, resolve);
}

/**
 * The cache file's bytes when it can be trusted like the code: a regular file (not through a
 * symlink) that neither group nor others can write, owned by root or by whoever runs flakevirt.
 * Anyone who could write it could hand V8 bytecode of their own with a digest to match.
 */
export function trustedCache(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.() ?? 0;
    if (!st.isFile() || (st.mode & 0o022) !== 0 || (st.uid !== 0 && st.uid !== uid)) return undefined;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The bin: the bundle next to `binUrl` (dist/cli.js), with its code cache unless FLAKEVIRT_CODE_CACHE=0. */
export function launch(binUrl: string, resolve: (specifier: string) => string): void {
  const dir = dirname(fileURLToPath(binUrl));
  const file = `${dir}/${BUNDLE}`;
  const cache = process.env.FLAKEVIRT_CODE_CACHE === '0' ? undefined : trustedCache(`${dir}/${CODE_CACHE}`);
  runBundle(compileBundle(file, cache), file, resolve);
}
