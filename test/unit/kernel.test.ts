// The developer's kernel as flakevirt reads it (src/adapters/kernel.ts): what is refused before
// anything is built (exit 2, naming the field and the fix), the content identity a rebuild changes
// and a touch does not, and a tree's modules installed once per content with `make modules_install`
// (here a stand-in kbuild Makefile: the real one needs a built kernel tree, an hour of compiling).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { kernelIssues } from '../../src/adapters/kernel.js';
import { fakeBzImage } from '../helpers/bzimage.js';

/** resolveKernel as a new flakevirt process has it (it reads each kernel once per process). */
async function resolveKernel(...args: Parameters<typeof import('../../src/adapters/kernel.js').resolveKernel>) {
  vi.resetModules();
  return (await import('../../src/adapters/kernel.js')).resolveKernel(...args);
}

/** A bzImage whose version string names `release`. */
const bzImage = (release: string) => fakeBzImage(`${release} (dev@box) #1 SMP`);
const GOOD = 'CONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_FS=y\nCONFIG_TMPFS=y\nCONFIG_VIRTIO_NET=m\n';
const REL = '6.13.0-rc1+';
let dir = '';
const root = process.getuid?.() === 0;

/** A bzImage + modules pair as make modules_install INSTALL_MOD_PATH=<dir>/inst leaves it. */
function pair(name: string, { config = GOOD, dep = true } = {}) {
  const d = join(dir, name);
  mkdirSync(join(d, 'inst', 'lib', 'modules', REL, 'kernel'), { recursive: true });
  writeFileSync(join(d, 'bzImage'), bzImage(REL));
  writeFileSync(join(d, `config-${REL}`), config);
  writeFileSync(join(d, 'inst', 'lib', 'modules', REL, 'kernel', 'a.ko'), 'module a');
  if (dep) writeFileSync(join(d, 'inst', 'lib', 'modules', REL, 'modules.dep'), 'kernel/a.ko:\n');
  return { bzImage: join(d, 'bzImage'), modules: join(d, 'inst', 'lib', 'modules') };
}

/** A built tree whose Makefile stands in for kbuild's modules_install (installs modules.order's modules, runs depmod, logs each run). */
function tree(name: string) {
  const t = join(dir, name);
  mkdirSync(join(t, 'arch', 'x86', 'boot'), { recursive: true });
  mkdirSync(join(t, 'drivers'), { recursive: true });
  writeFileSync(join(t, 'arch', 'x86', 'boot', 'bzImage'), bzImage(REL));
  writeFileSync(join(t, '.config'), GOOD);
  writeFileSync(join(t, 'drivers', 'a.ko'), 'module a');
  writeFileSync(join(t, 'modules.order'), 'drivers/a.o\n');
  writeFileSync(join(t, 'Makefile'), [
    'modules_install:',
    `\techo run >> ${join(t, 'make.log')}`,
    `\tmkdir -p $(INSTALL_MOD_PATH)/lib/modules/${REL}/kernel/drivers`,
    `\tcp drivers/a.ko $(INSTALL_MOD_PATH)/lib/modules/${REL}/kernel/drivers/`,
    `\tprintf 'kernel/drivers/a.ko:\\n' > $(INSTALL_MOD_PATH)/lib/modules/${REL}/modules.dep`,
    '',
  ].join('\n'));
  return t;
}
const runs = (t: string) => (existsSync(join(t, 'make.log')) ? readFileSync(join(t, 'make.log'), 'utf8').trim().split('\n').length : 0);

beforeAll(() => {
  dir = mkdtempSync('/var/tmp/flakevirt-kernel-');
  chmodSync(dir, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a kernel for an imageless guest', () => {
  it('boots when its bzImage has a release, its config the built-ins, its modules a modules.dep', async () => {
    expect(await kernelIssues('guests.g', pair('ok'))).toEqual([]);
  });
  it('is refused when its configuration has what must be built in as a module, naming the option and the fix', async () => {
    const issues = await kernelIssues('guests.g', pair('m', { config: GOOD.replace('CONFIG_VIRTIO_FS=y', 'CONFIG_VIRTIO_FS=m').replace('CONFIG_TMPFS=y\n', '') }));
    expect(issues.map((i) => i.path)).toEqual(['guests.g.imageless.bzImage', 'guests.g.imageless.bzImage']);
    expect(issues[0]!.message).toMatch(/6\.13\.0-rc1\+ is configured with CONFIG_VIRTIO_FS=m .*needs it built in.*scripts\/config --enable VIRTIO_FS/);
    expect(issues[1]!.message).toMatch(/CONFIG_TMPFS not set/);
  });
  it('is refused without modules for its release, with the fix for each way that happens', async () => {
    const p = pair('nodep', { dep: false });
    expect((await kernelIssues('guests.g', p))[0]).toMatchObject({ path: 'guests.g.imageless.modules', message: expect.stringMatching(/has no modules\.dep; run depmod .*depmod -b .*\/inst 6\.13\.0-rc1\+/) });
    const nested = pair('nested');
    const up = nested.modules.replace(/\/lib\/modules$/, '');
    expect((await kernelIssues('guests.g', { ...nested, modules: up }))[0]!.message).toMatch(/holds lib\/modules\/6\.13\.0-rc1\+; point modules: at .*\/inst\/lib\/modules/);
    expect((await kernelIssues('guests.g', { ...nested, modules: join(dir, 'ok') }))[0]!.message).toMatch(/no modules for 6\.13\.0-rc1\+ \(the bzImage's release\)/);
  });
  it('is refused when the bzImage is missing or is not one', async () => {
    const p = pair('bad');
    writeFileSync(p.bzImage, 'not a kernel');
    expect((await kernelIssues('guests.g', p))[0]!.message).toMatch(/not an x86 bzImage with a kernel version/);
    expect((await kernelIssues('guests.g', { tree: join(dir, 'none') }))[0]).toMatchObject({ path: 'guests.g.imageless.tree', message: expect.stringMatching(/is not a directory/) });
    const t = tree('unbuilt');
    rmSync(join(t, 'arch'), { recursive: true });
    expect((await kernelIssues('guests.g', { tree: t }))[0]!.message).toMatch(/arch\/x86\/boot\/bzImage does not exist .*build the kernel first/);
  });
  it.skipIf(!root)('refuses a tree another user owns or can write: make modules_install runs there as root', async () => {
    const t = tree('theirs');
    expect(await kernelIssues('guests.g', { tree: t })).toEqual([]);
    chmodSync(t, 0o777);
    expect((await kernelIssues('guests.g', { tree: t }))[0]!.message).toMatch(/theirs is writable by everyone; flakevirt runs make modules_install there as root/);
    chmodSync(t, 0o755);
    chownSync(join(t, 'Makefile'), 12345, 12345);
    expect((await kernelIssues('guests.g', { tree: t }))[0]!.message).toMatch(/Makefile belongs to uid 12345/);
  });
  it('is known by its content: a rebuild that changes a module changes it, a touch does not', async () => {
    const p = pair('id');
    const a = await resolveKernel(p, join(dir, 'kernels'), () => undefined);
    expect(a).toMatchObject({ bzImage: p.bzImage, release: REL, modules: p.modules });
    const later = new Date(Date.now() + 5000);
    utimesSync(p.bzImage, later, later);
    expect((await resolveKernel(p, join(dir, 'kernels'), () => undefined)).id).toBe(a.id);
    writeFileSync(join(p.modules, REL, 'kernel', 'a.ko'), 'module a, rebuilt');
    const b = await resolveKernel(p, join(dir, 'kernels'), () => undefined);
    expect(b.id).not.toBe(a.id);
    // The same bytes split differently between two files are another content.
    const other = pair('id-split');
    const [x, y] = [join(other.modules, REL, 'kernel', 'a.ko'), join(other.modules, REL, 'kernel', 'b.ko')];
    writeFileSync(y, 'module b');
    const c = await resolveKernel(other, join(dir, 'kernels'), () => undefined);
    const joined = readFileSync(x, 'utf8') + readFileSync(y, 'utf8');
    writeFileSync(x, joined.slice(0, 3));
    writeFileSync(y, joined.slice(3));
    const d = await resolveKernel(other, join(dir, 'kernels'), () => undefined);
    writeFileSync(x, joined.slice(0, 4));
    writeFileSync(y, joined.slice(4));
    const e = await resolveKernel(other, join(dir, 'kernels'), () => undefined);
    expect(new Set([c.id, d.id, e.id]).size).toBe(3);
  });
  it('the identity is one SHA-256 over each file\'s name, length and content (bzImage, then the release\'s modules)', async () => {
    const p = pair('format');
    writeFileSync(join(p.modules, REL, 'kernel', 'b.ko'), 'module b');
    const h = (root: string, rel: string[]) => {
      const all = createHash('sha256');
      for (const f of rel) all.update(`${f}\0${statSync(join(root, f)).size}\0`).update(readFileSync(join(root, f)));
      return all.digest('hex').slice(0, 8);
    };
    const want = h(dirname(p.bzImage), ['bzImage']) + h(join(p.modules, REL), ['kernel/a.ko', 'kernel/b.ko', 'modules.dep']);
    expect((await resolveKernel(p, join(dir, 'kernels'), () => undefined)).id).toBe(want);
  });
  it('a tree\'s modules are installed once per content, into a directory of flakevirt\'s own', async () => {
    const t = tree('src');
    const kernels = join(dir, 'kernels');
    const seen: string[] = [];
    const a = await resolveKernel({ tree: t }, kernels, (m) => seen.push(m));
    expect(a.modules).toBe(join(kernels, `${REL}-${a.id}`, 'lib', 'modules'));
    expect(readFileSync(join(a.modules, REL, 'kernel', 'drivers', 'a.ko'), 'utf8')).toBe('module a');
    expect(seen.join('\n')).toMatch(/installing the modules of 6\.13\.0-rc1\+ \(make -C .*modules_install INSTALL_MOD_PATH=/);
    expect(runs(t)).toBe(1);
    // A second process finds the installed directory.
    const again = await resolveKernel({ tree: t }, kernels, () => undefined);
    expect([again.id, runs(t)]).toEqual([a.id, 1]);
    writeFileSync(join(t, 'drivers', 'a.ko'), 'module a, changed');
    const b = await resolveKernel({ tree: t }, kernels, () => undefined);
    expect(b.id).not.toBe(a.id);
    expect(readFileSync(join(b.modules, REL, 'kernel', 'drivers', 'a.ko'), 'utf8')).toBe('module a, changed');
    expect(runs(t)).toBe(2);
    expect(execFileSync('ls', [kernels], { encoding: 'utf8' })).not.toMatch(/partial/);
  });
  it('a tree whose modules_install installs nothing for its release is an error, and leaves nothing behind', async () => {
    const t = tree('empty');
    writeFileSync(join(t, 'Makefile'), 'modules_install:\n\ttrue\n');
    await expect(resolveKernel({ tree: t }, join(dir, 'k2'), () => undefined)).rejects.toThrow(/installed no modules for 6\.13\.0-rc1\+/);
    expect(execFileSync('ls', ['-A', join(dir, 'k2')], { encoding: 'utf8' })).toBe('');
    cpSync(join(dir, 'src', 'Makefile'), join(t, 'Makefile'));
  });
});
