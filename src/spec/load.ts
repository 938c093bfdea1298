// Reading a spec from disk: the only I/O of the spec layer (the file, ssh key files, referenced files).
import { readFile, access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { SpecError, type SpecIssue } from '../errors.js';
import type { Fleet, Warning } from '../model.js';
import { parseSpec } from './parse.js';
import { normalize } from './normalize.js';
import { BUILTIN_TEMPLATES } from './defaults.js';

export { SPEC_FILE, findSpec } from './find.js';

export interface LoadedSpec {
  fleet: Fleet;
  warnings: Warning[];
  /** Directory of the spec file (where .flakevirt/ goes). */
  dir: string;
}

/** Reads, validates and normalises a spec; throws SpecError listing every problem. */
export async function loadSpec(path: string, { connect, home = homedir() }: { connect?: string; home?: string } = {}): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SpecError([{ path: '', message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }], `cannot load spec ${path}`);
  }
  return loadSpecText(text, path, { connect, home });
}

export async function loadSpecText(text: string, path: string, { connect, home = homedir() }: { connect?: string; home?: string } = {}): Promise<LoadedSpec> {
  const parsed = parseSpec(text);
  if (!parsed.ok) throw new SpecError(parsed.issues, `invalid spec ${path}`);
  const tilde = (p: string) => (p.startsWith('~/') ? `${home}/${p.slice(2)}` : p);
  const issues: SpecIssue[] = [];
  const keyFileContents: string[] = [];
  for (const [i, f] of (parsed.spec.sshKeyFiles ?? []).entries()) {
    try {
      const key = (await readFile(tilde(f), 'utf8')).trim();
      if (!/^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/.test(key)) issues.push({ path: `sshKeyFiles.${i}`, message: `${f} does not hold one OpenSSH public key line` });
      else keyFileContents.push(key);
    } catch (e) {
      issues.push({ path: `sshKeyFiles.${i}`, message: `cannot read ${f} (${(e as NodeJS.ErrnoException).code}); create it with ssh-keygen or remove it from sshKeyFiles` });
    }
  }
  const fleet = normalize(parsed.spec, { specPath: path, home, keyFileContents, connect });
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
  return { fleet, warnings: parsed.warnings, dir: dirname(path) };
}
