// adapters/file-cache.ts: answers kept between runs in flakevirt's own cache directory, keyed on
// what they depend on, and never believed from a directory someone else could write.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { cachedJson, fileIdentity } from '../../src/adapters/file-cache.js';
import { cacheDir } from '../../src/adapters/private-dir.js';

const area = `test-file-cache-${process.pid}`;
const scratch = mkdtempSync(join(tmpdir(), 'flakevirt-file-cache-'));
afterAll(() => {
  rmSync(join(cacheDir(), area), { recursive: true, force: true });
  rmSync(join(cacheDir(), `${area}-planted`), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe('cachedJson', () => {
  it('computes once per key and answers from the cache file after that', async () => {
    let n = 0;
    const compute = async () => ({ n: ++n });
    expect(await cachedJson(area, 'k1', compute)).toEqual({ n: 1 });
    expect(await cachedJson(area, 'k1', compute)).toEqual({ n: 1 });
    expect(await cachedJson(area, 'k2', compute)).toEqual({ n: 2 });
    expect(n).toBe(2);
    expect(readdirSync(join(cacheDir(), area))).toHaveLength(2);
  });

  it('keeps nothing without a key, or when keep says no', async () => {
    let n = 0;
    const compute = async () => ++n;
    await cachedJson(area, undefined, compute);
    await cachedJson(area, undefined, compute);
    await cachedJson(area, 'partial', compute, () => false);
    await cachedJson(area, 'partial', compute, () => false);
    expect(n).toBe(4);
  });

  it('does not believe a cache directory others can write, and writes nothing there', async () => {
    const dir = join(cacheDir(), `${area}-planted`);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    // What a planted entry would look like: the right file name, another answer.
    const { createHash } = await import('node:crypto');
    writeFileSync(join(dir, `${createHash('sha256').update('k').digest('hex').slice(0, 32)}.json`), JSON.stringify({ key: 'k', value: 'planted' }));
    expect(await cachedJson(`${area}-planted`, 'k', async () => 'computed')).toBe('computed');
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

describe('fileIdentity', () => {
  it('changes when the file does, and is undefined for a file that is not there', async () => {
    const f = join(scratch, 'base.qcow2');
    writeFileSync(f, 'one');
    const a = await fileIdentity(f);
    expect(await fileIdentity(f)).toBe(a);
    writeFileSync(f, 'two!');
    expect(await fileIdentity(f)).not.toBe(a);
    rmSync(f);
    writeFileSync(f, 'one'); // same size and content, new inode or change time
    expect(await fileIdentity(f)).not.toBe(a);
    expect(await fileIdentity(join(scratch, 'missing'))).toBeUndefined();
  });
});
