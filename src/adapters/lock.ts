// One flakevirt process per guest at a time: an exclusive lock file holding the owner's pid.
// A lock whose process is gone (crash, SIGKILL) is stale and taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';

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

/** Waits (up to timeoutMs) for the guest's lock; `onWait` is told once who holds it. */
export async function lockGuest(lockDir: string, guest: string, { timeoutMs = 15 * 60_000, onWait }: { timeoutMs?: number; onWait?: (pid: number) => void } = {}): Promise<Lock> {
  await mkdir(lockDir, { recursive: true, mode: 0o755 });
  const file = `${lockDir}/${guest}.lock`;
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
    if (Date.now() > deadline) throw new Error(`guest ${guest} is locked by flakevirt process ${pid}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
