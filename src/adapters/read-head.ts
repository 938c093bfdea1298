// Parts of a file read without reading the rest: the first bytes (a qcow2 header, a bzImage's setup
// header), or everything from an offset on (the new part of a console log).
import { open } from 'node:fs/promises';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The regular file `file` from byte `from` to its end, latin1-decoded (a character per byte, so
 * offsets stay byte offsets), with its size and identity; undefined when it is missing or is not a
 * regular file. Never follows a symlink and never blocks on a FIFO planted in its place.
 * Synchronous: `list` asks this of every guest's log, and 50 small reads through the thread pool
 * cost more than the reads.
 */
export function readFileFrom(file: string, from: number): { text: string; size: number; id: string; mtimeMs: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const id = `${st.dev}:${st.ino}`;
    const start = Math.min(from, st.size);
    const n = st.size - start;
    if (n <= 0) return { text: '', size: st.size, id, mtimeMs: st.mtimeMs };
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const bytesRead = readSync(fd, buf, got, n - got, start + got);
      if (!bytesRead) break;
      got += bytesRead;
    }
    return { text: buf.toString('latin1', 0, got), size: start + got, id, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}
