// Reading a spec from disk: the only I/O of the spec layer (the file, ssh key files, referenced files).
import { readFile, access, constants, stat } from 'node:fs/promises';
import { LIMITS } from './limits.js';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpecError, type SpecIssue } from '../errors.js';
import { readHead } from '../adapters/read-head.js';
import type { Fleet, Warning } from '../model.js';
import { BUILTIN_TEMPLATES } from './defaults.js';
import { SSH_PUBLIC_KEY } from './ssh-key.js';
import { connectIssues } from '../hosts.js';
import { packagePath } from '../package-root.js';
import { cacheDir, checkOwnDir, privateDir, writeOwnFile } from '../adapters/private-dir.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export { SPEC_FILE, findSpec } from './find.js';

export interface LoadedSpec {
  fleet: Fleet;
  warnings: Warning[];
  /** Directory of the spec file (where .flakevirt/ goes). */
  dir: string;
}

/** Reads, validates and normalises a spec; throws SpecError listing every problem. */
export interface LoadOptions {
  /** Overrides the spec's connect: (--connect). */
  connect?: string;
  /** Used when the spec has no connect: ($LIBVIRT_DEFAULT_URI). */
  defaultConnect?: string;
  home?: string;
}

export async function loadSpec(path: string, opts: LoadOptions = {}): Promise<LoadedSpec> {
  const fail = (message: string) => new SpecError([{ path: '', message }], `cannot load spec ${path}`);
  let bytes: Buffer;
  try {
    // The file's type first: a FIFO or a device would hang a read, a huge file is no spec.
    const st = await stat(path);
    if (!st.isFile()) throw fail(`${path} is not a regular file`);
    if (st.size > LIMITS.bytes) throw fail(`${path} is ${st.size} bytes; a spec is at most ${LIMITS.bytes} (1 MiB)`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof SpecError) throw e;
    throw fail(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fail(`${path} is not valid UTF-8; save it as UTF-8 text`);
  }
  return loadSpecText(text, path, opts);
}

/**
 * A validated spec is cached in flakevirt's own cache directory (/var/cache/flakevirt/spec-cache for
 * root, made 0700 and refused when anyone else could write it: a planted entry would skip
 * validation), keyed by the spec's text and path, the options, the build of flakevirt as a whole
 * (dist/build-id) and the ssh key files' contents: read commands and no-op runs then skip loading the
 * YAML parser and zod (~120 ms measured). Referenced files are checked every time. Without a build id
 * (running from source) there is no cache.
 */
interface SpecCache {
  key: string;
  fleet: Fleet;
  warnings: Warning[];
  keyFiles: Array<{ file: string; content: string }>;
}

async function cacheKey(text: string, path: string, home: string, connect: string | undefined): Promise<string | undefined> {
  const build = await readFile(packagePath('dist', 'build-id'), 'utf8').catch(() => undefined);
  if (!build) return undefined;
  return createHash('sha256').update(JSON.stringify([text, path, home, connect ?? '', build.trim()])).digest('hex');
}

/** Where the cached validation of the spec at `specPath` lives. */
export function specCachePath(specPath: string): string {
  return join(cacheDir(), 'spec-cache', `${createHash('sha256').update(specPath).digest('hex').slice(0, 32)}.json`);
}

async function readCache(specPath: string, key: string): Promise<SpecCache | undefined> {
  const file = specCachePath(specPath);
  try {
    checkOwnDir(dirname(file));
  } catch {
    return undefined; // not ours: never trusted (writeCache says why)
  }
  const c = await readFile(file, 'utf8').then((t) => JSON.parse(t) as SpecCache, () => undefined);
  if (!c || c.key !== key) return undefined;
  for (const k of c.keyFiles) if ((await readFile(k.file, 'utf8').catch(() => undefined)) !== k.content) return undefined;
  return c;
}

async function writeCache(specPath: string, c: SpecCache): Promise<void> {
  const file = specCachePath(specPath);
  try {
    privateDir(dirname(file));
  } catch (e) {
    process.stderr.write(`warning: no spec cache: ${(e as Error).message}\n`);
    return;
  }
  await writeOwnFile(file, JSON.stringify(c), 0o600).catch(() => undefined); // a full or read-only disk just means no cache
}

export async function loadSpecText(text: string, path: string, { connect, defaultConnect, home = homedir() }: LoadOptions = {}): Promise<LoadedSpec> {
  const key = await cacheKey(text, path, home, `${connect ?? ''}|${defaultConnect ?? ''}`);
  const cached = key ? await readCache(path, key) : undefined;
  const result = cached ?? (await validate(text, path, key ?? '', { connect, defaultConnect, home }));
  await checkReferencedFiles(result.fleet, path);
  if (!cached && key) await writeCache(path, result); // only for a spec that passed every check
  return { fleet: result.fleet, warnings: result.warnings, dir: dirname(path) };
}

/** Parses and validates the text, loading yaml and zod only now. */
async function validate(text: string, path: string, key: string, { connect, defaultConnect, home }: LoadOptions & { home: string }): Promise<SpecCache> {
  const { parseSpec } = await import('./parse.js');
  const { normalize } = await import('./normalize.js');
  const parsed = parseSpec(text);
  if (!parsed.ok) throw new SpecError(parsed.issues, `invalid spec ${path}`);
  const tilde = (p: string) => (p.startsWith('~/') ? `${home}/${p.slice(2)}` : p);
  const issues: SpecIssue[] = [];
  const keyFileContents: string[] = [];
  for (const [i, f] of (parsed.spec.sshKeyFiles ?? []).entries()) {
    try {
      const key = (await readFile(tilde(f), 'utf8')).trim();
      if (!SSH_PUBLIC_KEY.test(key)) issues.push({ path: `sshKeyFiles.${i}`, message: `${f} does not hold one OpenSSH public key line` });
      else keyFileContents.push(key);
    } catch (e) {
      issues.push({ path: `sshKeyFiles.${i}`, message: `cannot read ${f} (${(e as NodeJS.ErrnoException).code}); create it with ssh-keygen or remove it from sshKeyFiles` });
    }
  }
  if (connect !== undefined) issues.push(...connectIssues(connect, '--connect'));
  if (connect !== undefined && parsed.spec.hosts) {
    issues.push({ path: '--connect', message: 'the spec lists hosts:, each with its own connect:; use --host NAME to work on one of them' });
  }
  if (issues.length) throw new SpecError(issues, `invalid spec ${path}`);
  const fleet = normalize(parsed.spec, { specPath: path, home, keyFileContents, connect, defaultConnect });
  const keyFiles = await Promise.all(fleet.sshKeyFiles.map(async (file) => ({ file, content: await readFile(file, 'utf8') })));
  return { key, fleet, warnings: parsed.warnings, keyFiles };
}

/**
 * Image, kernel, initrd and template files must be what they claim (checked on every load): regular
 * files (a FIFO or a directory is refused without being opened, so nothing hangs), the image a
 * qcow2 without a backing file of its own, the template a domain XML.
 */
async function checkReferencedFiles(fleet: Fleet, path: string): Promise<void> {
  // Each file once, all at once: a fleet's guests mostly share one image, kernel and initrd.
  const checked = new Map<string, Promise<string | undefined>>();
  const check = (field: string, file: string) => {
    const k = `${field}\0${file}`;
    let p = checked.get(k);
    if (!p) checked.set(k, (p = fileProblem(field, file)));
    return p;
  };
  const found = await Promise.all(fleet.guests.flatMap((g) => {
    const files: Array<[string, string | undefined]> = [];
    const image = bootKindOf(g.boot).image(g.boot);
    if (image !== undefined) files.push(['image', image]);
    files.push(['kernel', g.boot.kernel], ['initrd', g.boot.initrd]);
    if (!BUILTIN_TEMPLATES.includes(g.template)) files.push(['template', g.template]);
    return files.flatMap(([field, file]) => (file === undefined ? [] : [check(field, file).then((problem) => (problem ? [{ path: `guests.${g.name}.${field}`, message: problem }] : []))]));
  }));
  const issues: SpecIssue[] = found.flat();
  issues.push(...(await kernelProblems(fleet)));
  if (issues.length) throw new SpecError(issues, `invalid spec ${path}`);
}

/** Imageless guests' kernels: one that cannot boot imageless is refused on every load (each kernel read once). */
async function kernelProblems(fleet: Fleet): Promise<SpecIssue[]> {
  const guests = fleet.guests.flatMap((g) => { const source = bootKindOf(g.boot).ownKernel(g.boot); return source ? [{ g, source }] : []; });
  if (!guests.length) return [];
  const { kernelIssues } = await import('../adapters/kernel.js');
  const byKernel = new Map<string, Promise<SpecIssue[]>>();
  const found = await Promise.all(guests.map(({ g, source }) => {
    const k = JSON.stringify(source);
    let p = byKernel.get(k);
    if (!p) byKernel.set(k, (p = kernelIssues('', source)));
    return p.then((list) => list.map((i) => ({ ...i, path: `guests.${g.name}${i.path}` })));
  }));
  return found.flat();
}

/** What is wrong with a referenced file, or undefined. Reads at most a header. */
async function fileProblem(field: string, file: string): Promise<string | undefined> {
  const st = await stat(file).catch(() => undefined);
  if (!st) return `${file} does not exist or is not readable`;
  if (!st.isFile()) return `${file} is ${st.isDirectory() ? 'a directory' : 'not a regular file (a FIFO, socket or device)'}; name the ${field} file itself`;
  try {
    await access(file, constants.R_OK);
  } catch {
    return `${file} does not exist or is not readable`;
  }
  if (field === 'image') {
    const head = await readHead(file, 16);
    // qcow2 header: magic "QFI\xfb", then version (4 bytes), then the backing file's offset (8 bytes).
    if (head.length < 16 || head.readUInt32BE(0) !== 0x514649fb) return `${file} is not a qcow2 image; convert it (qemu-img convert -O qcow2 ${file} base.qcow2)`;
    if (head.readBigUInt64BE(8) !== 0n) return `${file} has a backing file of its own; give flakevirt a standalone image (qemu-img convert -O qcow2 …)`;
  }
  if (field === 'kernel' && st.size === 0) return `${file} is empty`;
  if (field === 'template') {
    if (st.size > 1 << 20) return `${file} is ${st.size} bytes; a domain template is a small XML file`;
    const xml = (await readHead(file, st.size)).toString('utf8');
    const [{ xmlProblem }, { parseDomain }] = await Promise.all([import('../libvirt-xml/tree.js'), import('../libvirt-xml/domain.js')]);
    const broken = xmlProblem(xml);
    if (broken) return `${file} is not well-formed XML (${broken}); start from a copy of domain-templates/q35.xml`;
    if (!parseDomain(xml)) return `${file} has no <domain> element; start from a copy of domain-templates/q35.xml`;
  }
  return undefined;
}

