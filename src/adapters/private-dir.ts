// The one way flakevirt makes or opens a directory it trusts (the pool, guest directories, locks,
// caches, the example's key) and writes a file of its own. A directory is used only when it is a
// real directory (not a symlink) owned by the user running flakevirt, writable by nobody else, in a
// parent nobody else could rename it out of. flakevirt runs as root; a directory another user made or
// can write would let that user steer it (plant a symlink, a lock, a cache entry, a manifest).
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RefusedError } from '../errors.js';

/**
 * Makes `dir` (and missing parents, 0700) and checks it as ownDir does, and also that no group or
 * other user can even read or enter it (it holds locks, caches, a private key); returns it.
 */
export function privateDir(dir: string): string {
  ownDir(dir, 0o700);
  const mode = lstatSync(dir).mode & 0o777;
  if (mode & 0o077) throw new RefusedError(`${dir} has mode ${mode.toString(8)}; flakevirt keeps private files there and needs it 0700. Run chmod 700 ${dir}, or remove it (flakevirt makes it again)`);
  return dir;
}

/**
 * Makes `dir` with `mode` when missing (0755 where qemu must pass through: the pool, guest
 * directories) and checks it and its parent: see checkOwnDir.
 */
export function ownDir(dir: string, mode: number): string {
  mkdirSync(dir, { recursive: true, mode });
  checkOwnDir(dir);
  return dir;
}

/**
 * Refuses a directory that is a symlink, someone else's, or writable by group or others, and one
 * whose parent another user could rename it out of (writable by others without the sticky bit).
 */
export function checkOwnDir(dir: string): void {
  const uid = process.getuid?.() ?? 0;
  const st = lstatSync(dir);
  const why = st.isSymbolicLink() ? 'is a symbolic link'
    : !st.isDirectory() ? 'is not a directory'
      : st.uid !== uid ? `belongs to uid ${st.uid}, not to uid ${uid} who runs flakevirt`
        : (st.mode & 0o022) !== 0 ? `can be written by ${st.mode & 0o020 ? 'its group' : 'other users'} (mode ${(st.mode & 0o777).toString(8)})`
          : undefined;
  if (why) throw new RefusedError(`${dir} ${why}; flakevirt keeps its own files there and will not use it. Remove it (flakevirt makes it again) or fix its owner and mode`);
  const parent = dirname(dir);
  if (parent === dir) return;
  const p = statSync(parent);
  if ((p.uid !== uid && p.uid !== 0) || ((p.mode & 0o022) !== 0 && (p.mode & 0o1000) === 0)) {
    throw new RefusedError(`${dir} is in ${parent}, which ${p.uid !== uid && p.uid !== 0 ? `belongs to uid ${p.uid}` : `others can write (mode ${(p.mode & 0o7777).toString(8)}, no sticky bit)`}: another user could swap ${dir} for something else. Put it in a directory only root can write`);
  }
}

/** flakevirt's per-user runtime directory (locks): /run/flakevirt for root, else $XDG_RUNTIME_DIR/flakevirt. */
export function runtimeDir(): string {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/flakevirt';
  return process.env.XDG_RUNTIME_DIR ? `${process.env.XDG_RUNTIME_DIR}/flakevirt` : `/tmp/flakevirt-${uid}`;
}

/** flakevirt's per-user cache directory: /var/cache/flakevirt for root, else $XDG_CACHE_HOME/flakevirt. */
export function cacheDir(): string {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/var/cache/flakevirt';
  return `${process.env.XDG_CACHE_HOME ?? `${process.env.HOME ?? '/tmp'}/.cache`}/flakevirt`;
}

/**
 * The one way flakevirt writes a file of its own: a new temporary file next to the target (created
 * exclusively, so never through a planted symlink or someone's pre-created file), given its mode,
 * then renamed over the target (which replaces a symlink there instead of following it).
 */
export async function writeOwnFile(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.partial-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(content);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}
