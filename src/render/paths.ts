// Where a guest's files live on the host. Pure: derived from the pool and the names only.
import type { Disk } from '../model.js';

export interface GuestPaths {
  /** The guest's own directory in the pool; flakevirt creates and removes it. */
  dir: string;
  /** Ownership marker and manifest, written before any disk is created (a directory of its own only). */
  manifest?: string;
  root: string;
  console: string;
  disk: (d: Pick<Disk, 'name' | 'format'>) => string;
}

/** A guest's files in a directory of its own (a local host), which has a manifest. */
export interface DirPaths extends GuestPaths {
  manifest: string;
}

export function guestPaths(pool: string, guest: string): DirPaths {
  const dir = `${pool.replace(/\/+$/, '')}/${guest}`;
  return {
    dir,
    manifest: `${dir}/flakevirt-guest.json`,
    root: `${dir}/root.qcow2`,
    console: `${dir}/console.log`,
    disk: (d) => `${dir}/${d.name}.${d.format}`,
  };
}
