// A local host's guest files: one directory per guest in the pool with a manifest, disks made by
// qemu-img or ftruncate, Nix-built bases kept alive by GC roots in POOL/.gcroots.
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { checkOwnDir, ownDir } from './private-dir.js';
import { RefusedError } from '../errors.js';
import { dirname } from 'node:path';
import { guestPaths, type DirPaths, type GuestPaths } from '../render/paths.js';
import { createDisk, createOverlay, exists, removeFile, type ImageInfo } from './disks.js';
import { isOwnFile, readManifest, removeGuestDir, removePartials, writeManifest, MANIFEST_VERSION } from './guest-dir.js';
import { parseLabel } from './host-facts.js';
import { checkQemuCanReach } from './permissions.js';
import type { ConsoleChunk, GuestStore, Report } from './store.js';
import { readFileFrom } from './read-head.js';

/** The GC root flakevirt keeps in the pool for a Nix-built base image. */
export function gcRootLink(pool: string, storePath: string): string {
  return `${pool}/.gcroots/${storePath.split('/').pop()}`;
}

export class FileStore implements GuestStore {
  constructor(private readonly pool: string, private readonly specPath: string, private readonly qemuLabel: string | undefined) {}

  /** The pool directory exists and qemu can traverse the path to it. */
  async ready(): Promise<void> {
    ownDir(this.pool, 0o755);
    await checkQemuCanReach(this.pool, this.qemuLabel, 'pool');
  }

  paths(guest: string): GuestPaths {
    return guestPaths(this.pool, guest);
  }

  async provide(file: string, kind: string): Promise<string> {
    // A Nix-built base stays alive against nix-collect-garbage while a guest uses it.
    const store = /^\/nix\/store\/[^/]+/.exec(file)?.[0];
    if (kind === 'base' && store) await (await import('./nix.js')).addGcRoot(store, gcRootLink(this.pool, store));
    return file;
  }

  /** Which of the guest's files are there; anything but a regular file where a disk goes is refused, never adopted. */
  async existing(candidates: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const f of candidates) {
      if (!f) continue;
      const st = await lstat(f).catch(() => undefined);
      if (!st) continue;
      if (!st.isFile()) throw new RefusedError(`${f} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}, where flakevirt keeps a file of its own; it will not hand it to qemu. Remove it and run again`);
      out.add(f);
    }
    return out;
  }

  async previousDisks(_guest: string, given: GuestPaths): Promise<string[]> {
    const paths = dirPaths(given);
    // Only plain names in the guest's own directory: `up` deletes a previous disk the spec dropped.
    return ((await readManifest(paths))?.files ?? []).filter((f) => f !== paths.root && f !== paths.console && isOwnFile(paths, f));
  }

  async prepare(guest: string, given: GuestPaths, files: string[], report: Report): Promise<void> {
    const paths = dirPaths(given);
    const old = await readManifest(paths);
    await writeManifest(paths, { flakevirt: MANIFEST_VERSION, guest, spec: this.specPath, files: [...new Set([...(old?.files ?? []), ...files])] });
    for (const n of await removePartials(paths)) report(`removed ${n}, left by an interrupted run`);
  }

  createOverlay(path: string, base: string, baseInfo: ImageInfo, sizeBytes: number): Promise<void> {
    return createOverlay(path, base, baseInfo, sizeBytes);
  }

  createDisk(path: string, format: 'raw' | 'qcow2', sizeBytes: number, qemuOwned: boolean): Promise<void> {
    return createDisk(path, format, sizeBytes, qemuOwned ? parseLabel(this.qemuLabel) : undefined);
  }

  remove(path: string): Promise<void> {
    return removeFile(path);
  }

  async settle(guest: string, given: GuestPaths, files: string[]): Promise<void> {
    const paths = dirPaths(given);
    const kept = [];
    for (const f of files) if (f === paths.console || (await exists(f))) kept.push(f);
    await writeManifest(paths, { flakevirt: MANIFEST_VERSION, guest, spec: this.specPath, files: kept });
  }

  async removeGuest(guest: string, dir?: string): Promise<number> {
    const paths = guestPaths(dir ? dirname(dir) : this.pool, guest);
    if (!(await exists(paths.dir))) return 0;
    checkOwnDir(paths.dir); // never follow a planted symlink into someone else's files
    const manifest = await readManifest(paths);
    if (!manifest || manifest.guest !== guest) return 0;
    return (await removeGuestDir(paths, manifest)).length;
  }

  readConsole(paths: GuestPaths): Promise<string | undefined> {
    return readFile(paths.console, 'utf8').catch(() => undefined);
  }

  async readConsoleFrom(paths: GuestPaths, from: number): Promise<ConsoleChunk | undefined> {
    return readFileFrom(paths.console, from);
  }

  async dropUnused(domainFiles: string[]): Promise<string[]> {
    const { gcRoots, dropGcRoot } = await import('./nix.js');
    const dropped: string[] = [];
    for (const [link, storePath] of await gcRoots(`${this.pool}/.gcroots`)) {
      if (!domainFiles.some((f) => f.includes(`${storePath}/`))) {
        await dropGcRoot(link);
        dropped.push(link);
      }
    }
    // Modules flakevirt installed from a kernel tree (POOL/.kernels/<release>-<id>) that no domain shares any more.
    const kernels = `${this.pool}/.kernels`;
    for (const name of await readdir(kernels).catch(() => [] as string[])) {
      const dir = `${kernels}/${name}`;
      if (domainFiles.some((f) => f === `${dir}/lib/modules` || f.startsWith(`${dir}/`))) continue;
      if (!(await lstat(dir).then((st) => st.isDirectory(), () => false))) continue;
      await rm(dir, { recursive: true, force: true });
      dropped.push(dir);
    }
    return dropped;
  }
}

/** The paths this store made (paths()), which have a manifest. */
function dirPaths(p: GuestPaths): DirPaths {
  if (p.manifest === undefined) throw new Error(`internal: the file store was given paths without a manifest (${p.dir})`);
  return p as DirPaths;
}
