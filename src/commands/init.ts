// flakevirt init [--example NAME]: a commented flakevirt.yaml for a common case, which `validate`
// accepts as written. Never overwrites a file (exit 2, naming it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { SpecError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { print, type GlobalOptions } from './context.js';

/** The examples, in the order `init --help` lists them; the first is the default. */
export const EXAMPLES = ['fstests', 'blktests', 'two-hosts'] as const;
export type ExampleName = (typeof EXAMPLES)[number];

export interface InitOptions extends GlobalOptions {
  example?: ExampleName;
}

const KEY_LINE = /^sshKeyFiles: \[~\/\.ssh\/id_ed25519\.pub\]$/m;
const KEY_CANDIDATES = ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub'];

/**
 * The example's text for this user: the schema line first (editors validate and complete with it),
 * then the example with its key line naming a public key the user has, or commented out with the
 * command that makes one.
 */
export function exampleText(name: ExampleName, home = homedir()): string {
  const body = readFileSync(packagePath('examples', 'init', `${name}.yaml`), 'utf8');
  const key = KEY_CANDIDATES.find((k) => existsSync(`${home}/.ssh/${k}`));
  const keys = key ? `sshKeyFiles: [~/.ssh/${key}]` : '# sshKeyFiles: [~/.ssh/id_ed25519.pub]   # no key in ~/.ssh yet: make one with ssh-keygen -t ed25519, then uncomment';
  return `# yaml-language-server: $schema=${packagePath('flakevirt.schema.json')}\n${body.replace(KEY_LINE, keys)}`;
}

export async function initCommand(opts: InitOptions): Promise<void> {
  const name = opts.example ?? EXAMPLES[0];
  const file = resolve(opts.spec ?? 'flakevirt.yaml');
  const text = exampleText(name);
  try {
    // Created exclusively: an existing file (or a symlink put there) is never written through.
    writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new SpecError([{ path: '--spec', message: `${file} exists; flakevirt init never overwrites a file. Move it away, or name another file with -f` }], 'nothing written');
    throw new SpecError([{ path: '--spec', message: `cannot create ${file} (${code ?? String(e)})` }], 'nothing written');
  }
  print(`wrote ${file} (example ${name}). Next: flakevirt validate${opts.spec ? ` -f ${opts.spec}` : ''}, then flakevirt up`);
}
