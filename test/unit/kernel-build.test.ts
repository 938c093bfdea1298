// What flakevirt reads from a developer's kernel build (imageless guests, issue 23): the release
// in a bzImage's setup header, and the built-ins the imageless backend needs. Run against Debian's
// cloud kernel and its configuration as the tiny guest's cache holds them (unmodified), and against
// headers and configurations that must be refused.
import { describe, expect, it } from 'vitest';
import { existsSync, openSync, readSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BZIMAGE_HEAD_BYTES, bzImageRelease, missingBuiltins } from '../../src/boot-kinds/kernel-build.js';
import { fakeBzImage } from '../helpers/bzimage.js';

const CACHE = '/var/cache/flakevirt/tiny-guest';
const haveKernel = existsSync(join(CACHE, 'vmlinuz')) && existsSync(join(CACHE, 'kernel-version'));
const haveConfig = existsSync(join(CACHE, 'config'));
if (!haveKernel || !haveConfig) process.stderr.write(`skipped in part: no tiny guest kernel and config in ${CACHE} (scripts/tiny-guest.sh makes them)\n`);

function head(file: string): Buffer {
  const b = Buffer.alloc(BZIMAGE_HEAD_BYTES);
  const fd = openSync(file, 'r');
  const n = readSync(fd, b, 0, b.length, 0);
  closeSync(fd);
  return b.subarray(0, n);
}


describe('the release in a bzImage', () => {
  it.skipIf(!haveKernel)("is Debian's cloud kernel's, as its package names it", () => {
    expect(bzImageRelease(head(join(CACHE, 'vmlinuz')))).toBe(readFileSync(join(CACHE, 'kernel-version'), 'utf8').trim());
  });
  it('is the first word of the version string the header points to', () => {
    expect(bzImageRelease(fakeBzImage('6.13.0-rc2+ (dev@box) #7 SMP PREEMPT_DYNAMIC'))).toBe('6.13.0-rc2+');
  });
  it('is undefined for what is not a bzImage or carries no usable release', () => {
    expect(bzImageRelease(Buffer.alloc(0x100))).toBeUndefined();
    expect(bzImageRelease(fakeBzImage('6.1.0', { magic: 'ELF\x7f' }))).toBeUndefined();
    expect(bzImageRelease(fakeBzImage('6.1.0', { version: 0x1ff }))).toBeUndefined();
    expect(bzImageRelease(fakeBzImage('6.1.0', { pointer: 0 }))).toBeUndefined();
    expect(bzImageRelease(fakeBzImage('../../etc (x)'))).toBeUndefined();
    expect(bzImageRelease(fakeBzImage('6.1.0-no-end-in-these-bytes', { pointer: 0xdf8 }))).toBeUndefined(); // runs past the head
  });
});

describe('the built-ins an imageless kernel needs', () => {
  it.skipIf(!haveConfig)("Debian's 6.12 cloud kernel has them all (FACTS.md)", () => {
    expect(missingBuiltins(readFileSync(join(CACHE, 'config'), 'utf8'))).toEqual([]);
  });
  it('names each one that is a module or not set, with why it must be built in', () => {
    const got = missingBuiltins('CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_FS=m\n# CONFIG_TMPFS is not set\n');
    expect(got.map((m) => [m.option, m.has])).toEqual([['CONFIG_VIRTIO_FS', 'm'], ['CONFIG_TMPFS', 'not set']]);
    expect(got[0]!.why).toMatch(/virtiofs/);
    expect(missingBuiltins('').map((m) => m.option)).toEqual(['CONFIG_VIRTIO_PCI', 'CONFIG_VIRTIO_FS', 'CONFIG_TMPFS']);
  });
});
