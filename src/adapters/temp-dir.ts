// A private scratch directory for one operation, removed afterwards whatever happens.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

export async function withTempDir<T>(prefix: string, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(`${tmpdir()}/flakevirt-${prefix}-`);
  try {
    return await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
