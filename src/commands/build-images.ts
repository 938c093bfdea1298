// Nix-built base images for a set of guests: render each guest's configuration directory, lock,
// build once per group of identical configurations (groups concurrently), and skip all nix work
// when nothing that feeds the image changed since the last build.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ownDir, writeOwnFile } from '../adapters/private-dir.js';
import { join, basename } from 'node:path';
import type { Fleet, Guest } from '../model.js';
import type { BaseImage, ClosureBoot } from '../render/state.js';
import { bootKindOf } from '../boot-kinds/kind.js';
import { parseBootspec } from '../boot-kinds/imageless.js';
import { ToolError } from '../errors.js';
import { renderNix, GUEST_LIBRARY_FILE } from '../render/nix.js';
import { buildGroups } from '../render/build-group.js';
import { buildImage, evalImage, lockFlake, nixVersion, pointAt } from '../adapters/nix.js';
import { packagePath } from '../package-root.js';
import type { Progress } from './runner.js';

export interface BuiltImage {
  /** The image (an imageless guest: its closure, whose id its state carries). */
  base: BaseImage;
  /** An imageless guest's boot, from its closure's boot.json. */
  closure?: ClosureBoot;
  storePath: string;
  /** What happened: "built", "up to date" (no nix work), or "shared with GUEST". */
  how: string;
  sharedWith: string[];
}

/** `build --check`: the configuration evaluated, nothing built. */
export class CheckedOnly {
  readonly how = 'evaluates';
}

interface BuildRecord {
  fingerprint: string;
  storePath: string;
}

/** The configuration directory of a guest: `.flakevirt/<guest>/` next to the spec. */
export function configDir(specDir: string, guest: string): string {
  return join(specDir, '.flakevirt', guest);
}

/** Writes `text` unless the file already holds it; says whether it wrote. */
async function writeIfChanged(file: string, text: string): Promise<boolean> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === text) return false;
  await writeOwnFile(file, text);
  return true;
}

/**
 * A guest's configuration directory, made or opened only when it (and .flakevirt/) is flakevirt's
 * own: nix builds, as root, whatever flake.nix and flake.lock there say, so a directory another user
 * could write (or a symlink planted there) is refused, naming the fix.
 */
function ownConfigDir(specDir: string, guest: string): string {
  ownDir(join(specDir, '.flakevirt'), 0o755);
  return ownDir(configDir(specDir, guest), 0o755);
}

/**
 * Builds the images of the Nix-built guests among `guests`. Returns one entry per guest: the
 * image, or the error that stopped its group (other groups go on).
 */
export async function buildImages(
  fleet: Fleet, specDir: string, guests: Guest[], progressOf: (guest: string) => Progress, { update = false } = {},
): Promise<Map<string, BuiltImage | Error>> {
  return (await processGroups(fleet, specDir, guests, progressOf, { update, checkOnly: false })) as Map<string, BuiltImage | Error>;
}

/** `build --check`: render, lock and evaluate each distinct configuration, build nothing. */
export function checkImages(
  fleet: Fleet, specDir: string, guests: Guest[], progressOf: (guest: string) => Progress, { update = false } = {},
): Promise<Map<string, BuiltImage | Error | CheckedOnly>> {
  return processGroups(fleet, specDir, guests, progressOf, { update, checkOnly: true });
}

async function processGroups(
  fleet: Fleet, specDir: string, guests: Guest[], progressOf: (guest: string) => Progress, { update, checkOnly }: { update: boolean; checkOnly: boolean },
): Promise<Map<string, BuiltImage | Error | CheckedOnly>> {
  const out = new Map<string, BuiltImage | Error | CheckedOnly>();
  const groups = buildGroups(fleet, guests);
  if (!groups.length) return out;
  const libraries = new Map<string, Promise<string>>();
  const libraryText = (file: string) => {
    let p = libraries.get(file);
    if (!p) libraries.set(file, (p = readFile(packagePath('nix', file), 'utf8')));
    return p;
  };
  const version = await nixVersion();
  await Promise.all(groups.map(async (group) => {
    const progress = progressOf(group.builder.name);
    const others = group.guests.slice(1).map((g) => g.name);
    const build = bootKindOf(group.builder.boot).nixBuild!;
    const what = build.attr === 'image' ? 'image' : 'system closure';
    try {
      const library = await libraryText(build.library);
      // Every guest gets its directory (to read and debug); only the group's builder is built.
      progress(`rendering ${join('.flakevirt', group.builder.name)}/`);
      let flakeChanged = false;
      for (const g of group.guests) {
        const dir = ownConfigDir(specDir, g.name);
        const files = renderNix(fleet, g);
        const wrote = await writeIfChanged(join(dir, 'flake.nix'), files['flake.nix']);
        if (g === group.builder) flakeChanged = wrote;
        await writeIfChanged(join(dir, 'default.nix'), files['default.nix']);
        await writeIfChanged(join(dir, GUEST_LIBRARY_FILE), library);
      }
      const dir = configDir(specDir, group.builder.name);
      if (others.length) progress(`shares one build with ${others.join(', ')}`);
      const lockPath = join(dir, 'flake.lock');
      // Lock when there is no lock yet, when flake.nix changed (its inputs may have), or on --update.
      if (update || flakeChanged || !(await stat(lockPath).then(() => true, () => false))) {
        progress(update ? 'locking (re-pinning nixos-flake)' : 'locking');
        await lockFlake(dir, { update });
      }
      const fingerprint = createHash('sha256').update(JSON.stringify([
        await readFile(join(dir, 'flake.nix'), 'utf8'), await readFile(join(dir, 'default.nix'), 'utf8'), library,
        await readFile(lockPath, 'utf8').catch(() => ''), version,
      ])).digest('hex');
      const recordFile = join(dir, 'flakevirt-build.json');
      const record = JSON.parse(await readFile(recordFile, 'utf8').catch(() => 'null')) as BuildRecord | null;
      let storePath: string;
      let how: string;
      if (record?.fingerprint === fingerprint && (await stat(join(record.storePath, build.output)).then(() => true, () => false))) {
        storePath = record.storePath;
        how = 'up to date';
        progress(`${what} up to date (${storePath}), no nix work`);
      } else {
        // Evaluate first: a configuration error shows in seconds, before minutes of building.
        progress(`evaluating the configuration (nix eval of the ${what}'s drvPath)`);
        await evalImage(dir, group.builder.name, build.attr);
        if (checkOnly) {
          out.set(group.builder.name, new CheckedOnly());
          for (const g of group.guests.slice(1)) out.set(g.name, new CheckedOnly());
          return;
        }
        progress('building with nix');
        storePath = await buildImage(dir, (line) => progress(`nix: ${line}`), build.attr);
        await writeOwnFile(recordFile, `${JSON.stringify({ fingerprint, storePath } satisfies BuildRecord, null, 2)}\n`);
        how = 'built';
        progress(`built ${storePath}`);
      }
      let base: BaseImage;
      let closure: ClosureBoot | undefined;
      if (build.output === 'boot.json') {
        const parsed = parseBootspec(await readFile(join(storePath, 'boot.json'), 'utf8'));
        if (typeof parsed === 'string') throw new ToolError({ message: `${storePath}/boot.json: ${parsed}`, command: `nix build path:${dir}#${build.attr}` });
        closure = parsed;
        base = { path: storePath, id: `nix:${basename(storePath)}`, storePath };
        progress(`system closure ${storePath} (init ${closure.init})`);
      } else {
        base = { path: join(storePath, build.output), id: `nix:${basename(storePath)}`, storePath };
        progress(`base image ${base.path} (used in place; guests get overlays on it)`);
      }
      out.set(group.builder.name, { base, ...(closure && { closure }), storePath, how, sharedWith: others });
      for (const g of group.guests.slice(1)) {
        await pointAt(join(configDir(specDir, g.name), 'result'), storePath);
        out.set(g.name, { base, ...(closure && { closure }), storePath, how: `shared with ${group.builder.name}`, sharedWith: group.guests.filter((x) => x !== g).map((x) => x.name) });
      }
    } catch (e) {
      for (const g of group.guests) out.set(g.name, e as Error);
    }
  }));
  return out;
}
