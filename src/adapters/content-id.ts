// A file's content identity, for naming what is uploaded to remote hosts: the hash part of a Nix
// store path, else the file's SHA-256 (cached by path, size, mtime and inode, so a big image is
// read once, not on every run).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { ownDir, writeOwnFile } from './private-dir.js';

const CACHE = process.env.FLAKEVIRT_HASH_CACHE ?? '/var/cache/flakevirt/content-ids.json';

export async function contentId(path: string): Promise<string> {
  const store = /^\/nix\/store\/([0-9a-z]{32})-/.exec(path);
  if (store) return store[1]!;
  const st = await stat(path);
  const key = `${path}\u0000${st.size}\u0000${Math.floor(st.mtimeMs)}\u0000${st.ino}`;
  const cache = await readCache();
  if (cache[key]) return cache[key];
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const id = hash.digest('hex').slice(0, 32);
  const fresh = await readCache();
  fresh[key] = id;
  // Several hashes can be written at once (base, kernel, initrd): each through its own temporary file.
  ownDir(CACHE.replace(/\/[^/]+$/, ''), 0o755);
  await writeOwnFile(CACHE, JSON.stringify(fresh), 0o644);
  return id;
}

async function readCache(): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(CACHE, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}
