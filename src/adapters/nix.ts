// nix through execa: lock and build a guest's flake, read its version, keep store paths alive.
// nix-command and flakes are enabled on every call, so a stock nix.conf works.
import { execa } from 'execa';
import { access, constants, mkdir, readlink, realpath, rm, symlink, readdir } from 'node:fs/promises';
import { SpecError, ToolError } from '../errors.js';
import { run } from './run.js';

const FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

/**
 * `nix --version`, part of every build's fingerprint; kept by the identity of the nix binary PATH
 * finds (the wrapper Debian installs, or a profile's), so a run that builds nothing spawns nothing.
 */
export async function nixVersion(): Promise<string> {
  const ask = async () => (await run('nix', ['--version'], 'reading the nix version')).trim();
  const bin = await onPath('nix');
  if (!bin) return ask();
  const { cachedJson, fileIdentity } = await import('./file-cache.js');
  const id = await fileIdentity(await realpath(bin));
  return cachedJson('nix-version', id && `${bin}\0${id}`, ask);
}

/** The first executable `name` in PATH (as execa would find it), or undefined. */
async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const f = `${dir}/${name}`;
    if (await access(f, constants.X_OK).then(() => true, () => false)) return f;
  }
  return undefined;
}

/** `nix flake lock` (keeps flake.lock; `update` re-pins the nixos-flake input). */
export async function lockFlake(dir: string, { update = false } = {}): Promise<void> {
  await run('nix', [...FEATURES, 'flake', 'lock', `path:${dir}`, ...(update ? ['--update-input', 'nixos-flake'] : [])], `locking ${dir}/flake.nix`);
}

/** nix's own words for trouble that is not in the configuration: fetching, the store, the daemon. */
const INFRASTRUCTURE = /unable to download|Could not resolve|cannot connect|HTTP error|Failed to connect|error: getting status of '\/nix|cannot open connection|out of disk|No space left|error: opening lock file|while fetching|git(hub)? .*(failed|error)/i;

/**
 * `nix eval` of the image's drvPath: the whole configuration evaluated (modules, overlay,
 * assertions), nothing built. Seconds, where the build is minutes on a real host. An evaluation
 * error is the configuration's, so SpecError (exit 2) naming the guest with nix's message; trouble
 * fetching or with the store stays a ToolError (exit 1).
 */
export async function evalImage(dir: string, guest: string, attr = 'image'): Promise<string> {
  try {
    return (await run('nix', [...FEATURES, 'eval', '--raw', `path:${dir}#packages.x86_64-linux.${attr}.drvPath`], `evaluating the NixOS configuration of ${guest}`)).trim();
  } catch (e) {
    if (!(e instanceof ToolError) || INFRASTRUCTURE.test(e.stderr)) throw e;
    const message = nixErrorLines(e.stderr);
    throw new SpecError([{ path: `guests.${guest}`, message: `its NixOS configuration does not evaluate (${dir}/default.nix, from the spec):\n${message}` }], `${guest}: nix evaluation failed`);
  }
}

/** nix's error without the trace noise: from the first "error:" on, bounded. */
export function nixErrorLines(stderr: string): string {
  const lines = stderr.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\n');
  const from = Math.max(0, lines.findIndex((l) => /^\s*error:/.test(l)));
  return lines.slice(from).filter((l) => l.trim()).slice(0, 30).map((l) => `      ${l}`).join('\n');
}

/** `nix build path:DIR#ATTR --out-link DIR/result` (ATTR: image, or an imageless guest's toplevel); streams nix's stderr lines to `onLine`; returns the store path. */
export async function buildImage(dir: string, onLine: (line: string) => void, attr = 'image'): Promise<string> {
  const args = [...FEATURES, 'build', `path:${dir}#${attr}`, '--out-link', `${dir}/result`, '--json', '-L'];
  const child = execa('nix', args, { reject: false, stdin: 'ignore' });
  let tail: string[] = [];
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trimEnd();
      buf = buf.slice(i + 1);
      if (!line) continue;
      tail = [...tail.slice(-40), line];
      onLine(line);
    }
  });
  const r = await child;
  if (r.failed) {
    throw new ToolError({ message: `nix could not build ${attr === 'image' ? 'the image' : attr} of ${dir}`, command: r.escapedCommand, ...(r.exitCode !== undefined && { exitCode: r.exitCode }), stderr: [...tail, buf].join('\n') });
  }
  const out = (JSON.parse(String(r.stdout)) as Array<{ outputs: { out: string } }>)[0]?.outputs.out;
  if (!out) throw new ToolError({ message: 'nix build printed no output path', command: r.escapedCommand, stderr: String(r.stdout) });
  return out;
}

/** Registers `link` → `storePath` as an indirect GC root (idempotent). */
export async function addGcRoot(storePath: string, link: string): Promise<void> {
  if ((await readlink(link).catch(() => undefined)) === storePath) return;
  await mkdir(link.slice(0, link.lastIndexOf('/')), { recursive: true });
  await run('nix-store', ['--realise', storePath, '--add-root', link, '--indirect'], `keeping ${storePath} alive (GC root ${link})`);
}

/** The GC roots flakevirt holds in a directory: link path → store path. */
export async function gcRoots(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const target = await readlink(`${dir}/${name}`).catch(() => undefined);
    if (target) out.set(`${dir}/${name}`, target);
  }
  return out;
}

export async function dropGcRoot(link: string): Promise<void> {
  await rm(link, { force: true });
}

/** A plain symlink (not a GC root): `result` in the directory of a guest that shares another's build. */
export async function pointAt(link: string, target: string): Promise<void> {
  await rm(link, { force: true });
  await symlink(target, link);
}
