// What every command gets: the global options and a way to print.
import { existsSync, rmSync } from 'node:fs';
import { privateDir } from '../adapters/private-dir.js';
import { dirname } from 'node:path';
import { NoSpecError, SpecError } from '../errors.js';
import type { Fleet, Host } from '../model.js';
import { connectIssues, hostFor } from '../hosts.js';
import { DEFAULTS } from '../spec/defaults.js';
import type { LoadedSpec } from '../spec/load.js';
import { findSpec } from '../spec/find.js';
import { packagePath } from '../package-root.js';
import { run } from '../adapters/run.js';

export interface GlobalOptions {
  spec?: string;
  connect?: string;
  /** --host NAME: work on these hosts of the spec only. */
  host?: string[];
  json?: boolean;
}

/** Path of the built-in example fleet, used by `up` when there is no spec file. */
export const EXAMPLE_SPEC = packagePath('examples', 'tiny-fleet.yaml');

/**
 * Loads the spec named by -f, else ./flakevirt.yaml; prints warnings to stderr. With no spec,
 * `allowExample` takes the built-in example fleet: `prepare` builds its tiny guest and key when
 * missing (commands that create guests), `present` uses it only when that was done already
 * (read commands never download).
 */
export async function loadFleet(opts: GlobalOptions, { allowExample = false as false | 'prepare' | 'present' } = {}): Promise<LoadedSpec> {
  let path = findSpec(opts.spec);
  if (!path && allowExample === 'prepare') path = EXAMPLE_SPEC;
  if (!path && allowExample === 'present' && existsSync(`${EXAMPLE_KEY}.pub`) && existsSync(TINY_GUEST_BASE)) path = EXAMPLE_SPEC;
  if (!path) throw new NoSpecError();
  const { loadSpec } = await import('../spec/load.js');
  if (path === EXAMPLE_SPEC) {
    process.stderr.write(`flakevirt: no flakevirt.yaml here; using the built-in example fleet (${EXAMPLE_SPEC})\n`);
    if (allowExample === 'prepare') await ensureExample();
  }
  // --connect overrides the spec; $LIBVIRT_DEFAULT_URI only fills in when the spec has no connect:.
  const loaded = await loadSpec(path, { ...(opts.connect && { connect: opts.connect }), ...(process.env.LIBVIRT_DEFAULT_URI && { defaultConnect: process.env.LIBVIRT_DEFAULT_URI }) });
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
  return loaded;
}

/** The spec when there is one (read commands and `down --all` also work without). */
export async function loadFleetIfAny(opts: GlobalOptions, { allowExample = false as false | 'prepare' | 'present' } = {}): Promise<LoadedSpec | undefined> {
  try {
    return await loadFleet(opts, { allowExample });
  } catch (e) {
    if (e instanceof NoSpecError) return undefined;
    throw e;
  }
}

/** The hosts a command works on: the spec's (narrowed by --host), else one at --connect, $LIBVIRT_DEFAULT_URI or qemu:///system. */
export function hostsFor(opts: GlobalOptions, fleet?: Fleet): Host[] {
  if (!fleet) {
    const connect = opts.connect ?? process.env.LIBVIRT_DEFAULT_URI ?? DEFAULTS.connect;
    const issues = opts.connect !== undefined ? connectIssues(opts.connect, '--connect') : [];
    if (issues.length) throw new SpecError(issues, 'bad --connect');
    return [hostFor({ name: DEFAULTS.hostName, connect }, { localPool: DEFAULTS.pool, remotePool: DEFAULTS.remotePool })];
  }
  const wanted = opts.host ?? [];
  const unknown = wanted.filter((n) => !fleet.hosts.some((h) => h.name === n));
  if (unknown.length) {
    throw new SpecError(unknown.map((n) => ({ path: '--host', message: `no host named "${n}" in the spec; known: ${fleet.hosts.map((h) => h.name).join(', ')}` })), 'unknown host');
  }
  return wanted.length ? fleet.hosts.filter((h) => wanted.includes(h.name)) : fleet.hosts;
}

/** Picks guests by name (all when none given); an unknown name is a spec error. */
export function pickGuests<T extends { name: string }>(guests: T[], names: string[] | undefined): T[] {
  if (!names || names.length === 0) return guests;
  const unknown = names.filter((n) => !guests.some((g) => g.name === n));
  if (unknown.length) {
    throw new SpecError(unknown.map((n) => ({ path: 'guests', message: `no guest named "${n}" in the spec; known: ${guests.map((g) => g.name).join(', ')}` })), 'unknown guest');
  }
  return guests.filter((g) => names.includes(g.name));
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where the example fleet's login key lives (examples/tiny-fleet.yaml names its .pub). */
export const EXAMPLE_KEY = '/var/lib/flakevirt/example/id_ed25519';
/** The tiny guest's base image, as examples/tiny-fleet.yaml names it (made by scripts/tiny-guest.sh). */
const TINY_GUEST_BASE = '/var/cache/flakevirt/tiny-guest/base.qcow2';

/**
 * Builds the example's tiny guest from Debian packages unless it is cached already, and makes the
 * example fleet's ssh key once (so its inventory logs in), in a directory only root can reach.
 */
async function ensureExample(): Promise<void> {
  await run('bash', [packagePath('scripts', 'tiny-guest.sh')], 'building the tiny example guest from Debian packages (scripts/tiny-guest.sh)');
  privateDir(dirname(EXAMPLE_KEY)); // it holds the example fleet's private key
  if (!existsSync(`${EXAMPLE_KEY}.pub`)) {
    rmSync(EXAMPLE_KEY, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flakevirt-example', '-f', EXAMPLE_KEY], 'making the example fleet\'s ssh key (ssh-keygen, from openssh-client)');
  }
}
