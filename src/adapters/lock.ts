// One flakevirt process per guest at a time: an exclusive lock file holding the owner's pid.
// A lock whose process is gone (crash, SIGKILL) is stale and taken over. Every command locks in one
// place, the controller's runtime directory, by libvirt URI and domain name: what a lock protects
// is a domain on a host, whatever pool or spec names it.
import { open, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { privateDir, runtimeDir } from './private-dir.js';
import { RefusedError } from '../errors.js';

export interface Lock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock directory (created 0700, refused when another user could have planted anything in it). */
export function lockDir(): string {
  return privateDir(`${runtimeDir()}/locks`);
}

/** The lock file of `name` (a domain, or an upload) on the host at `uri`. */
export function lockFile(uri: string, name: string): string {
  return `${lockDir()}/${createHash('sha256').update(uri).digest('hex').slice(0, 16)}-${name}.lock`;
}

/** Waits (up to timeoutMs) for the lock of `name` on the host at `uri`; `onWait` is told once who holds it. */
export async function lockGuest(uri: string, name: string, { timeoutMs = 15 * 60_000, onWait }: { timeoutMs?: number; onWait?: (pid: number) => void } = {}): Promise<Lock> {
  const file = lockFile(uri, name);
  const guest = name;
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return {
        release: async () => {
          const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
          if (holder === process.pid) await rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const text = await readFile(file, 'utf8').catch(() => '');
    const pid = Number(text.trim());
    if (!pid || !alive(pid)) {
      // Stale: remove it only if it still holds what we read, then race for it again.
      if ((await readFile(file, 'utf8').catch(() => '')) === text) await rm(file, { force: true });
      continue;
    }
    if (!told) {
      onWait?.(pid);
      told = true;
    }
    if (Date.now() > deadline) throw new RefusedError(`${guest} is locked by flakevirt process ${pid}, still running after ${Math.round(timeoutMs / 60_000)} min; wait for it or stop it (kill ${pid})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
