// flakevirt build [GUEST...] [--update]: render, lock and build the guests' images through Nix.
import { SpecError, runExitCode } from '../errors.js';
import { loadFleet, pickGuests, print, printJson, type GlobalOptions } from './context.js';
import { buildImages, checkImages, CheckedOnly, configDir } from './build-images.js';
import { ProgressView } from './progress-view.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export interface BuildOptions extends GlobalOptions {
  guests?: string[];
  update?: boolean;
  /** Evaluate each configuration (nix eval of the image's drvPath), build nothing. */
  check?: boolean;
}

export async function buildCommand(opts: BuildOptions): Promise<void> {
  const { fleet, dir } = await loadFleet(opts);
  const guests = pickGuests(fleet.guests, opts.guests).filter((g) => bootKindOf(g.boot).nixBuilt);
  if (!guests.length) throw new SpecError([{ path: 'guests', message: 'no guest to build: every chosen guest has image: (a prebuilt base)' }], 'nothing to build');
  const view = new ProgressView(opts.json);
  await view.start();
  const built = await (opts.check ? checkImages : buildImages)(fleet, dir, guests, (name) => view.for(name), { update: opts.update ?? false });
  for (const g of guests) {
    const b = built.get(g.name);
    view.end(g.name, b instanceof Error ? 'failed' : b?.how ?? '');
  }
  view.finish();
  const rows = guests.map((g) => {
    const b = built.get(g.name)!;
    if (b instanceof Error) return { name: g.name, ok: false, error: b.message, dir: configDir(dir, g.name) };
    if (b instanceof CheckedOnly) return { name: g.name, ok: true, how: b.how, dir: configDir(dir, g.name) };
    return { name: g.name, ok: true, image: b.base.path, storePath: b.storePath, how: b.how, sharedWith: b.sharedWith, dir: configDir(dir, g.name) };
  });
  // An evaluation error is in what the spec asked for (exit 2); any other failure is the build's (1).
  const code = runExitCode(guests.map((g) => { const b = built.get(g.name); return b instanceof Error ? b : undefined; }));
  if (code) process.exitCode = code;
  if (opts.json) return printJson(rows);
  const w = Math.max(...rows.map((r) => r.name.length));
  const hw = Math.max(...rows.map((r) => (r.how ?? 'failed').length));
  for (const r of rows) print(`${r.name.padEnd(w)}  ${r.ok ? `${(r.how ?? '').padEnd(hw)}  ${'image' in r ? r.image : r.dir}` : 'failed'}`);
  for (const r of rows) if (!r.ok) process.stderr.write(`flakevirt: ${r.name}: ${r.error}\n`);
}
