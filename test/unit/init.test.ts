// flakevirt init: each example validates as written (with and without a key in ~/.ssh), carries
// the schema line, and init never writes over or through an existing file.
import { describe, expect, it } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { EXAMPLES } from '../../src/commands/init.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'flakevirt-init-'));
const home = join(dir, 'home');
mkdirSync(join(home, '.ssh'), { recursive: true });
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, '.ssh', 'id_ed25519')]);
const fv = (env: Record<string, string>, ...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });

describe('flakevirt init', () => {
  it.each(EXAMPLES)('--example %s writes a spec validate accepts, with the schema line and the user\'s key', (name) => {
    const file = join(dir, `${name}.yaml`);
    const w = fv({ HOME: home }, 'init', '--example', name, '-f', file);
    expect(w.status, w.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=${join(REPO_ROOT, 'flakevirt.schema.json')}`);
    expect(existsSync(join(REPO_ROOT, 'flakevirt.schema.json'))).toBe(true);
    expect(text).toMatch(/^sshKeyFiles: \[~\/\.ssh\/id_ed25519\.pub\]$/m);
    const v = fv({ HOME: home }, 'validate', '-f', file, '--json');
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).ok).toBe(true);
  });

  it('without a key in ~/.ssh the key line is commented out with the command that makes one, and the spec still validates', () => {
    const file = join(dir, 'nokey.yaml');
    expect(fv({ HOME: join(dir, 'nohome') }, 'init', '-f', file).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# sshKeyFiles: .*ssh-keygen -t ed25519/m);
    expect(fv({ HOME: join(dir, 'nohome') }, 'validate', '-f', file).status).toBe(0);
  });

  it('never overwrites a file, nor writes through a symlink planted in its place (exit 2, naming it)', () => {
    const file = join(dir, 'flakevirt.yaml');
    writeFileSync(file, 'mine\n');
    const r = fv({ HOME: home }, 'init');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file} exists; flakevirt init never overwrites a file`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    const target = join(dir, 'target');
    writeFileSync(target, 'untouched\n');
    symlinkSync(target, join(dir, 'link.yaml'));
    expect(fv({ HOME: home }, 'init', '-f', 'link.yaml').status).toBe(2);
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
  });

  it('offers exactly the examples there are', () => {
    const help = fv({}, 'init', '--help').stdout;
    expect(help).toContain(`[choices: ${EXAMPLES.map((e) => `"${e}"`).join(', ')}]`);
  });
});
