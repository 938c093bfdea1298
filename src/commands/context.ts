// What every command gets: the global options and a way to print.
import { SpecError } from '../errors.js';
import type { LoadedSpec } from '../spec/load.js';
import { findSpec } from '../spec/find.js';
import { packagePath } from '../package-root.js';
import { run } from '../adapters/run.js';

export interface GlobalOptions {
  spec?: string;
  connect?: string;
  json?: boolean;
}

/** Path of the built-in example fleet, used by `up` when there is no spec file. */
export const EXAMPLE_SPEC = packagePath('examples', 'tiny-fleet.yaml');

/** Loads the spec named by -f, else ./flakevirt.yaml; prints warnings to stderr. */
export async function loadFleet(opts: GlobalOptions, { allowExample = false } = {}): Promise<LoadedSpec> {
  const path = findSpec(opts.spec) ?? (allowExample ? EXAMPLE_SPEC : undefined);
  if (!path) throw new SpecError([{ path: '', message: 'no flakevirt.yaml in this directory; pass -f/--spec FILE' }], 'no spec');
  const { loadSpec } = await import('../spec/load.js');
  if (path === EXAMPLE_SPEC) {
    process.stderr.write(`flakevirt: no flakevirt.yaml here; using the built-in example fleet (${EXAMPLE_SPEC})\n`);
    await ensureTinyGuest();
  }
  const loaded = await loadSpec(path, { connect: opts.connect ?? process.env.LIBVIRT_DEFAULT_URI });
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
  return loaded;
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

/** Builds the example's tiny guest from Debian packages unless it is cached already. */
async function ensureTinyGuest(): Promise<void> {
  await run('bash', [packagePath('scripts', 'tiny-guest.sh')], 'building the tiny example guest from Debian packages (scripts/tiny-guest.sh)');
}
