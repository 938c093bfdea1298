// The bin's launcher (src/launch.ts): the built code cache is taken by this Node, a cache is used only
// with the very bundle it was made from, and without a cache (or with FLAKEVIRT_CODE_CACHE=0, or a
// damaged one) the CLI runs all the same.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { BUNDLE, CODE_CACHE, WRAPPER, cacheFileData, compileBundle, trustedCache } from '../../src/launch.js';
import { DIST, copyOfDist, damagedData, forgedCache, v8DataStart } from '../helpers/dist-copy.js';

function version(root: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--version'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
}

describe('the launcher and its code cache', () => {
  it('the cache the build made is taken by this Node for the bundle it was made from', () => {
    const compiled = compileBundle(join(DIST, BUNDLE), readFileSync(join(DIST, CODE_CACHE)));
    expect(compiled.rejected).toBe(false);
    // It holds more than the top level: the trained commands' functions (scripts/code-cache.mjs).
    const topLevelOnly = cacheFileData(compileBundle(join(DIST, BUNDLE), undefined));
    expect(readFileSync(join(DIST, CODE_CACHE)).length).toBeGreaterThan(2 * topLevelOnly.length);
  });

  it('does not hand V8 the cache of another bundle of the same length, which V8 itself would take', () => {
    const root = copyOfDist();
    const file = join(root, 'dist', BUNDLE);
    const text = readFileSync(file, 'latin1');
    const at = text.indexOf('has an unknown unit');
    expect(at).toBeGreaterThan(0);
    writeFileSync(file, `${text.slice(0, at)}HAS${text.slice(at + 3)}`, 'latin1');
    const cache = readFileSync(join(root, 'dist', CODE_CACHE));
    // V8 checks only the source's length: the stale cache would be taken, with stale code in it.
    const v8Data = cache.subarray(v8DataStart(cache));
    const edited = `${WRAPPER[0]}${readFileSync(file, 'latin1')}${WRAPPER[1]}`;
    expect(new vm.Script(edited, { filename: file, cachedData: v8Data }).cachedDataRejected).toBe(false);
    // The launcher compares the digest the cache names and compiles from source instead.
    expect(compileBundle(file, cache).rejected).toBeUndefined();
    expect(version(root).stdout.trim()).toBe('0.0.0-copy');
  });

  it('runs the CLI without a cache, and with a damaged one, which it does not hand to V8 (V8 would crash on it)', () => {
    const bare = copyOfDist(false);
    const r = version(bare);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0.0.0-copy');

    const damaged = copyOfDist();
    const file = join(damaged, 'dist', CODE_CACHE);
    const built = readFileSync(file);
    const header = v8DataStart(built);
    const cache = Buffer.concat([built.subarray(0, header), damagedData(built.subarray(header))]);
    writeFileSync(file, cache);
    expect(compileBundle(join(damaged, 'dist', BUNDLE), cache).rejected).toBeUndefined();
    const d = version(damaged);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout.trim()).toBe('0.0.0-copy');
    // The control, in a process of its own: V8 given the damaged data directly does not survive it.
    const direct = spawnSync(process.execPath, ['-e', `const vm = require('node:vm'), fs = require('node:fs');
      const src = ${JSON.stringify(WRAPPER[0])} + fs.readFileSync(${JSON.stringify(join(damaged, 'dist', BUNDLE))}, 'latin1') + ${JSON.stringify(WRAPPER[1])};
      new vm.Script(src, { cachedData: fs.readFileSync(${JSON.stringify(file)}).subarray(${header}) });`], { encoding: 'utf8', timeout: 20_000 });
    expect(direct.status).not.toBe(0);
    expect(direct.signal ?? `exit ${direct.status}`).toMatch(/SIG(SEGV|TRAP|ABRT|ILL)|exit 13[0-9]/);
  });

  it('does not read a cache another user could write or owns: its digest would be theirs to make', () => {
    const root = copyOfDist();
    const file = join(root, 'dist', CODE_CACHE);
    const forged = forgedCache(root);
    writeFileSync(file, forged);
    chmodSync(file, 0o644);
    expect(trustedCache(file)).toEqual(forged);
    // The control: from a file only its owner can write, the launcher hands it to V8, which crashes.
    const control = version(root);
    expect(control.status).not.toBe(0);
    for (const mode of [0o666, 0o664]) {
      chmodSync(file, mode);
      expect(trustedCache(file)).toBeUndefined();
      const r = version(root);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('0.0.0-copy');
    }
    chmodSync(file, 0o644);
    symlinkSync(file, join(root, 'dist', 'link'));
    expect(trustedCache(join(root, 'dist', 'link'))).toBeUndefined();
    if (process.getuid?.() === 0) {
      chownSync(file, 12345, 12345);
      expect(trustedCache(file)).toBeUndefined();
      expect(version(root).status).toBe(0);
    }
  });

  it('FLAKEVIRT_CODE_CACHE=0 does not even open the cache (a FIFO there would block the read)', () => {
    const root = copyOfDist(false);
    expect(spawnSync('mkfifo', [join(root, 'dist', CODE_CACHE)]).status).toBe(0);
    const r = version(root, { FLAKEVIRT_CODE_CACHE: '0' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0.0.0-copy');
    // The control: with the cache on, the launcher opens it and waits for a writer that never comes.
    const blocked = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), '--version'], { encoding: 'utf8', timeout: 3_000 });
    expect(blocked.signal).toBe('SIGTERM');
  });
});
