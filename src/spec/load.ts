// Reading a spec from disk: the only I/O of the spec layer (the file, ssh key files, referenced files).
import { readFile, access, constants, mkdir, writeFile, rename, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpecError, type SpecIssue } from '../errors.js';
import type { Fleet, Warning } from '../model.js';
import { BUILTIN_TEMPLATES } from './defaults.js';
import { SSH_PUBLIC_KEY } from './ssh-key.js';

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
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SpecError([{ path: '', message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }], `cannot load spec ${path}`);
  }
  return loadSpecText(text, path, opts);
}

/**
 * A validated spec is cached next to it (.flakevirt/spec-cache.json), keyed by its text and path, the
 * options, flakevirt's own spec code and the ssh key files' contents: read commands and no-op runs
 * then skip loading the YAML parser and zod (~150 ms). Referenced files are checked every time.
 */
interface SpecCache {
  key: string;
  fleet: Fleet;
  warnings: Warning[];
  keyFiles: Array<{ file: string; content: string }>;
}

const SPEC_CODE = ['parse.js', 'schema.js', 'rules.js', 'normalize.js', 'defaults.js', 'units.js', '../hosts.js'].map((f) => fileURLToPath(new URL(f, import.meta.url)));

async function cacheKey(text: string, path: string, home: string, connect: string | undefined): Promise<string> {
  const code = await Promise.all(SPEC_CODE.map((f) => stat(f).then((st) => `${st.size}:${st.mtimeMs}`, () => '-')));
  return createHash('sha256').update(JSON.stringify([text, path, home, connect ?? '', code])).digest('hex');
}

function cachePath(specPath: string): string {
  return join(dirname(specPath), '.flakevirt', 'spec-cache.json');
}

async function readCache(specPath: string, key: string): Promise<SpecCache | undefined> {
  const c = await readFile(cachePath(specPath), 'utf8').then((t) => JSON.parse(t) as SpecCache, () => undefined);
  if (!c || c.key !== key) return undefined;
  for (const k of c.keyFiles) if ((await readFile(k.file, 'utf8').catch(() => undefined)) !== k.content) return undefined;
  return c;
}

async function writeCache(specPath: string, c: SpecCache): Promise<void> {
  const file = cachePath(specPath);
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.${process.pid}`, JSON.stringify(c));
    await rename(`${file}.${process.pid}`, file);
  } catch {
    // a read-only spec directory just means no cache
  }
}

export async function loadSpecText(text: string, path: string, { connect, defaultConnect, home = homedir() }: LoadOptions = {}): Promise<LoadedSpec> {
  const key = await cacheKey(text, path, home, `${connect ?? ''}|${defaultConnect ?? ''}`);
  const cached = await readCache(path, key);
  const result = cached ?? (await validate(text, path, key, { connect, defaultConnect, home }));
  await checkReferencedFiles(result.fleet, path);
  if (!cached) await writeCache(path, result); // only for a spec that passed every check
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
  if (connect !== undefined && parsed.spec.hosts) {
    issues.push({ path: '--connect', message: 'the spec lists hosts:, each with its own connect:; use --host NAME to work on one of them' });
  }
  if (issues.length) throw new SpecError(issues, `invalid spec ${path}`);
  const fleet = normalize(parsed.spec, { specPath: path, home, keyFileContents, connect, defaultConnect });
  const keyFiles = await Promise.all(fleet.sshKeyFiles.map(async (file) => ({ file, content: await readFile(file, 'utf8') })));
  return { key, fleet, warnings: parsed.warnings, keyFiles };
}

/** Image, kernel, initrd and template files must exist and be readable (checked on every load). */
async function checkReferencedFiles(fleet: Fleet, path: string): Promise<void> {
  const issues: SpecIssue[] = [];
  for (const g of fleet.guests) {
    const files: Array<[string, string | undefined]> = [];
    if (g.boot.kind === 'image') files.push(['image', g.boot.image]);
    files.push(['kernel', g.boot.kernel], ['initrd', g.boot.initrd]);
    if (!BUILTIN_TEMPLATES.includes(g.template)) files.push(['template', g.template]);
    for (const [field, file] of files) {
      if (file === undefined) continue;
      try {
        await access(file, constants.R_OK);
      } catch {
        issues.push({ path: `guests.${g.name}.${field}`, message: `${file} does not exist or is not readable` });
      }
    }
  }
  if (issues.length) throw new SpecError(issues, `invalid spec ${path}`);
}
