// flakevirt down [GUEST...] [--all]: destroy, undefine and delete exactly what flakevirt created.
import { dirname } from 'node:path';
import { RefusedError, SpecError } from '../errors.js';
import { foreign } from '../plan.js';
import { domainFacts } from '../ownership.js';
import { lockGuest } from '../adapters/lock.js';
import { readManifest, removeGuestDir, ownedGuestDirs } from '../adapters/guest-dir.js';
import { guestPaths } from '../render/paths.js';
import { connectUri, loadFleet, loadFleetIfAny, pickGuests, type GlobalOptions } from './context.js';
import { Session } from './session.js';
import { forEachGuest, printResults } from './runner.js';
import type { Fleet } from '../model.js';

export interface DownOptions extends GlobalOptions {
  guests?: string[];
  all?: boolean;
}

interface Target {
  name: string;
  /** The guest directory to clean when no domain says where it is. */
  dir?: string;
}

export async function downCommand(opts: DownOptions): Promise<void> {
  // --all works without a spec (it finds flakevirt's domains by their metadata); names need one.
  const fleet: Fleet | undefined = opts.all ? (await loadFleetIfAny(opts))?.fleet : (await loadFleet(opts, { allowExample: true })).fleet;
  const s = await Session.open(connectUri(opts, fleet), fleet);
  try {
    const targets = new Map<string, Target>();
    if (opts.all) {
      if (opts.guests?.length) throw new SpecError([{ path: '', message: 'give guest names or --all, not both' }], 'bad arguments');
      for (const d of await s.lv.domains()) if (domainFacts(d.xml).owner) targets.set(d.name, { name: d.name });
      if (fleet) {
        for (const o of await ownedGuestDirs(fleet.pool)) if (!targets.has(o.name)) targets.set(o.name, { name: o.name, dir: o.paths.dir });
        for (const g of fleet.guests) if (!targets.has(g.name)) targets.set(g.name, { name: g.name, dir: guestPaths(fleet.pool, g.name).dir });
      }
    } else {
      for (const g of pickGuests(fleet!.guests, opts.guests)) targets.set(g.name, { name: g.name, dir: guestPaths(fleet!.pool, g.name).dir });
    }
    const pools = new Set<string>(fleet ? [fleet.pool] : []);
    const results = await forEachGuest([...targets.values()], async (t, progress) => {
      const dom = await s.lv.domain(t.name);
      const owner = dom ? domainFacts(dom.xml).owner : undefined;
      if (dom && !owner) throw new RefusedError(foreign(t.name));
      const dir = owner?.dir || t.dir;
      if (dir) pools.add(dirname(dir));
      const lock = dir ? await lockGuest(`${dirname(dir)}/.locks`, t.name, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}`) }) : undefined;
      try {
        const removed: string[] = [];
        if (dom) {
          if (dom.running) {
            progress('stopping');
            await s.lv.destroy(t.name);
          }
          progress('undefining');
          await s.lv.undefine(t.name);
          removed.push('domain');
        }
        if (dir) {
          const paths = guestPaths(dirname(dir), t.name);
          const manifest = await readManifest(paths);
          if (manifest && manifest.guest === t.name) {
            const files = await removeGuestDir(paths, manifest);
            removed.push(`${files.length} file${files.length === 1 ? '' : 's'}`);
          }
        }
        return { outcome: removed.length ? `removed (${removed.join(', ')})` : 'already gone' };
      } finally {
        await lock?.release();
      }
    }, opts);
    await dropUnusedGcRoots(s, pools);
    printResults(results, opts);
  } finally {
    await s.close();
  }
}

/** Drops the GC roots of Nix-built bases that no flakevirt domain on the connection uses any more. */
async function dropUnusedGcRoots(s: Session, pools: Set<string>): Promise<void> {
  const { gcRoots, dropGcRoot } = await import('../adapters/nix.js');
  const inUse = (await s.lv.domains()).map((d) => domainFacts(d.xml).owner?.base).filter((b): b is string => !!b);
  for (const pool of pools) {
    for (const [link, storePath] of await gcRoots(`${pool}/.gcroots`)) {
      if (!inUse.some((b) => b.startsWith(`${storePath}/`))) await dropGcRoot(link);
    }
  }
}
