// The developer's kernel for imageless guests, read from its files: its release, whether its
// configuration can boot imageless, its modules, and the identity of its content (what `up`
// compares to know the kernel changed). A kernel tree's modules are installed by flakevirt with
// `make modules_install` into a directory of its own, one per release and content.
import { lstat, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { readHead } from './read-head.js';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KernelSource } from '../model.js';
import type { SpecIssue } from '../errors.js';
import { BZIMAGE_HEAD_BYTES, bzImageRelease, missingBuiltins } from '../boot-kinds/kernel-build.js';
import { bzImageOf } from '../boot-kinds/imageless.js';
import { cachedJson, fileIdentitySync } from './file-cache.js';
import { ownDir } from './private-dir.js';
import { run } from './run.js';

/** A kernel as an imageless guest boots it. */
export interface ResolvedKernel {
  bzImage: string;
  /** What `uname -r` prints: the bzImage's, and the name of its modules' directory. */
  release: string;
  /** The directory the `modules` share serves: it holds <release>/. */
  modules: string;
  /** The content identity of the bzImage and its modules (not their times). */
  id: string;
}

/** The release a bzImage carries, or why it has none. */
async function releaseOf(bzImage: string): Promise<{ release: string } | { problem: string }> {
  const st = await stat(bzImage).catch(() => undefined);
  if (!st) return { problem: `${bzImage} does not exist or is not readable${bzImage.endsWith('/arch/x86/boot/bzImage') ? '; build the kernel first (make -j$(nproc))' : ''}` };
  if (!st.isFile()) return { problem: `${bzImage} is not a regular file; name the kernel image (arch/x86/boot/bzImage of a built tree)` };
  const release = bzImageRelease(await readHead(bzImage, BZIMAGE_HEAD_BYTES).catch(() => new Uint8Array()));
  return release ? { release } : { problem: `${bzImage} is not an x86 bzImage with a kernel version (no boot protocol header "HdrS"); name arch/x86/boot/bzImage of a built kernel, or a vmlinuz` };
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/**
 * Who may own what flakevirt runs `make` in, as root: root, and the user who called it through sudo.
 * A directory another user owns or can write (or a parent they could swap it in) would let them run
 * code as root in `make modules_install`.
 */
async function treeTrustProblem(tree: string): Promise<string | undefined> {
  const trusted = new Set([0, process.getuid?.() ?? 0, ...(process.env.SUDO_UID ? [Number(process.env.SUDO_UID)] : [])]);
  const own = [tree, join(tree, 'Makefile'), join(tree, 'scripts')];
  const ancestors: string[] = [];
  for (let p = dirname(tree); ; p = dirname(p)) {
    ancestors.push(p);
    if (p === '/') break;
  }
  for (const p of [...own, ...ancestors]) {
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    if (!trusted.has(st.uid)) return `${p} belongs to uid ${st.uid}; flakevirt runs make modules_install in the tree as root, so it must belong to root or to you`;
    // A parent anyone may write is safe only with the sticky bit (then nobody else can rename the tree away).
    const sticky = (st.mode & 0o1000) !== 0 && !own.includes(p);
    if ((st.mode & 0o022) && !sticky) return `${p} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'}; flakevirt runs make modules_install there as root. Run chmod go-w ${p}`;
  }
  return undefined;
}

/** The configuration to check: a tree's .config; for a bzImage, the one named, else one found beside it. */
async function configOf(k: KernelSource, release: string): Promise<string | undefined> {
  if ('tree' in k) return (await exists(join(k.tree, '.config'))) ? join(k.tree, '.config') : undefined;
  if (k.config) return k.config;
  for (const c of [join(k.modules, release, 'build', '.config'), join(dirname(k.bzImage), `config-${release}`)]) if (await exists(c)) return c;
  return undefined;
}

/** What is wrong with an imageless guest's kernel, before anything is built or defined (exit 2); [] when it can boot. */
export async function kernelIssues(at: string, k: KernelSource): Promise<SpecIssue[]> {
  const p = `${at}.imageless`;
  const issues: SpecIssue[] = [];
  if ('tree' in k) {
    const st = await stat(k.tree).catch(() => undefined);
    if (!st?.isDirectory()) return [{ path: `${p}.tree`, message: `${k.tree} is not a directory; name a built kernel tree (the directory with arch/x86/boot/bzImage)` }];
    const trust = await treeTrustProblem(k.tree);
    if (trust) issues.push({ path: `${p}.tree`, message: trust });
  }
  const r = await releaseOf(bzImageOf(k));
  if ('problem' in r) return [...issues, { path: `${p}.${'tree' in k ? 'tree' : 'bzImage'}`, message: r.problem }];
  const config = await configOf(k, r.release);
  if (config) {
    const text = await readFile(config, 'utf8').catch(() => undefined);
    if (text === undefined) {
      issues.push({ path: `${p}.config`, message: `${config} does not exist or is not readable` });
    } else {
      for (const m of missingBuiltins(text)) {
        issues.push({ path: `${p}${'tree' in k ? '.tree' : '.bzImage'}`, message: `${r.release} is configured with ${m.option}${m.has === 'm' ? '=m' : ' not set'} (${config}); an imageless guest needs it built in (=y): ${m.why}. Enable it (scripts/config --enable ${m.option.replace(/^CONFIG_/, '')}; make olddefconfig) and rebuild` });
      }
    }
  }
  if (!('tree' in k)) {
    const dep = join(k.modules, r.release, 'modules.dep');
    if (!(await exists(dep))) {
      const nested = join(k.modules, 'lib', 'modules', r.release, 'modules.dep');
      const have = (await readdir(k.modules).catch(() => [] as string[])).filter((n) => /^[0-9]/.test(n));
      const message = await exists(nested) ? `${k.modules} holds lib/modules/${r.release}; point modules: at ${join(k.modules, 'lib', 'modules')}`
        : await exists(join(k.modules, r.release)) ? `${join(k.modules, r.release)} has no modules.dep; run depmod for it (make modules_install does), e.g. depmod -b ${k.modules.endsWith('/lib/modules') ? k.modules.slice(0, -'/lib/modules'.length) || '/' : 'BASE'} ${r.release}`
        : `no modules for ${r.release} (the bzImage's release) in ${k.modules}${have.length ? ` (it has ${have.join(', ')})` : ''}; install them (make modules_install INSTALL_MOD_PATH=DIR, then modules: DIR/lib/modules)`;
      issues.push({ path: `${p}.modules`, message });
    }
  }
  return issues;
}

/**
 * Regular files under `dir`, relative, sorted (symlinks such as build/ and source/ are not followed).
 * Listed synchronously: through the thread pool, one round trip per directory, the listing of a
 * kernel's modules ended only after the main thread's other work, which then waited on the hash.
 */
function filesUnder(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

/**
 * The content identity of the files: one SHA-256 over each file's name, length and content, kept by
 * the files' identities (times included, so a touch rehashes, but only a content change changes it).
 * Read synchronously, whole: for a thousand modules that is twice as fast as reading them through
 * the thread pool, and `up` starts it while it waits for libvirt (kernelContent). One hash for all
 * files, not one per file: creating a hash costs ~40 µs, which for 1151 modules (22 MB) was 60 of
 * 76 ms. (A worker thread was slower still: starting one takes ~80 ms of Node 20's bootstrap.)
 */
async function contentOf(root: string, rel: string[]): Promise<string> {
  const ids = rel.map((f) => fileIdentitySync(join(root, f)));
  const key = createHash('sha256').update(`${root}\n${ids.join('\n')}`).digest('hex');
  return cachedJson('kernel-content-2', key, async () => {
    const all = createHash('sha256');
    for (const f of rel) {
      const data = readFileSync(join(root, f));
      all.update(`${f}\0${data.length}\0`).update(data);
    }
    return all.digest('hex').slice(0, 16);
  });
}

/** The .ko files a built tree has, from its modules.order (kbuild lists objects as .o or .ko). */
async function treeModules(tree: string): Promise<string[]> {
  const order = await readFile(join(tree, 'modules.order'), 'utf8').catch(() => '');
  return [...new Set(order.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.replace(/\.o$/, '.ko')))].sort();
}

const installs = new Map<string, Promise<string>>();
const contents = new Map<string, Promise<{ bzImage: string; release: string; id: string }>>();

/**
 * A kernel's release and content identity (a pair: its bzImage and <modules>/<release>/; a tree: its
 * bzImage and the modules modules.order lists), read once per process. `up` starts it as soon as the
 * spec is loaded, so the hashing overlaps the connection to libvirt and the build check.
 */
export function kernelContent(k: KernelSource): Promise<{ bzImage: string; release: string; id: string }> {
  const key = JSON.stringify(k);
  let p = contents.get(key);
  if (!p) {
    p = (async () => {
      const bzImage = bzImageOf(k);
      const r = await releaseOf(bzImage);
      if ('problem' in r) throw new Error(r.problem);
      const { release } = r;
      if (!('tree' in k)) {
        const dir = join(k.modules, release);
        const [kernelId, modulesId] = await Promise.all([contentOf(dirname(bzImage), [bzImage.slice(dirname(bzImage).length + 1)]), contentOf(dir, filesUnder(dir))]);
        return { bzImage, release, id: `${kernelId.slice(0, 8)}${modulesId.slice(0, 8)}` };
      }
      const kos = await treeModules(k.tree);
      return { bzImage, release, id: await contentOf(k.tree, ['arch/x86/boot/bzImage', ...kos]) };
    })();
    p.catch(() => undefined);
    contents.set(key, p);
  }
  return p;
}

/**
 * The kernel as a guest boots it. A bzImage and modules are used where they are; a tree's modules
 * are installed (once per release and content) into `kernelsDir`/<release>-<id>/lib/modules.
 */
export async function resolveKernel(k: KernelSource, kernelsDir: string, report: (m: string) => void): Promise<ResolvedKernel> {
  const { bzImage, release, id } = await kernelContent(k);
  if (!('tree' in k)) return { bzImage, release, modules: k.modules, id };
  const dest = join(kernelsDir, `${release}-${id}`);
  const modules = join(dest, 'lib', 'modules');
  let p = installs.get(dest);
  if (!p) {
    p = (async () => {
      if (await exists(join(modules, release, 'modules.dep'))) return modules;
      ownDir(kernelsDir, 0o755);
      const tmp = `${dest}.partial-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      report(`installing the modules of ${release} (make -C ${k.tree} modules_install INSTALL_MOD_PATH=${tmp})`);
      await run('make', ['-C', k.tree, '-s', 'modules_install', `INSTALL_MOD_PATH=${tmp}`], `installing the modules of ${k.tree}`);
      if (!(await exists(join(tmp, 'lib', 'modules', release, 'modules.dep')))) {
        await rm(tmp, { recursive: true, force: true });
        throw new Error(`make modules_install in ${k.tree} installed no modules for ${release} (no lib/modules/${release}/modules.dep); is the tree built, with CONFIG_MODULES=y?`);
      }
      await rename(tmp, dest).catch(async (e: NodeJS.ErrnoException) => {
        await rm(tmp, { recursive: true, force: true });
        if (!(await exists(join(modules, release, 'modules.dep')))) throw e;
      });
      return modules;
    })();
    installs.set(dest, p);
  }
  return { bzImage, release, modules: await p, id };
}
