// flakevirt down [GUEST...] [--all]: destroy, undefine and delete exactly what flakevirt created,
// on every host of the fleet (or the ones --host names).
import { RefusedError, SpecError } from '../errors.js';
import { foreign } from '../plan.js';
import { domainFacts } from '../ownership.js';
import { domainFiles, parseDomain } from '../libvirt-xml/domain.js';
import { lockGuest } from '../adapters/lock.js';
import { kindOf } from '../host-kinds/kind.js';
import { readRecord } from '../adapters/placement-record.js';
import { homeOf } from '../placement.js';
import { hostsFor, loadFleet, loadFleetIfAny, pickGuests, type GlobalOptions } from './context.js';
import { Hosts } from './hosts.js';
import { forEachGuest, printResults } from './runner.js';
import type { Fleet } from '../model.js';

export interface DownOptions extends GlobalOptions {
  guests?: string[];
  all?: boolean;
}

interface Target {
  /** Unique per run: the guest's name, with "@host" when it is on more than one host. */
  name: string;
  guest: string;
  host: string;
  /** The guest directory to clean when no domain says where it is. */
  dir?: string;
}

export async function downCommand(opts: DownOptions): Promise<void> {
  // --all works without a spec (it finds flakevirt's domains by their metadata); names need one.
  const fleet: Fleet | undefined = opts.all ? (await loadFleetIfAny(opts))?.fleet : (await loadFleet(opts, { allowExample: 'present' })).fleet;
  if (opts.all && opts.guests?.length) throw new SpecError([{ path: '', message: 'give guest names or --all, not both' }], 'bad arguments');
  const selected = hostsFor(opts, fleet);
  const hosts = await Hosts.open(selected, fleet);
  try {
    const domains = await hosts.domains();
    const recorded = fleet ? (await readRecord(fleet.pool)).guests : {};
    const found: Target[] = [];
    const add = (guest: string, host: string, dir?: string) => {
      if (!found.some((t) => t.guest === guest && t.host === host)) found.push({ name: guest, guest, host, ...(dir && { dir }) });
    };
    const wanted = opts.all ? undefined : pickGuests(fleet!.guests, opts.guests);
    for (const [host, doms] of domains) {
      for (const d of doms) {
        // --all with a spec: what this spec made (its path is in the metadata), not another project's guests.
        const owner = wanted ? undefined : domainFacts(d.xml).owner;
        if (wanted ? wanted.some((g) => g.name === d.name) : owner && (!fleet || owner.spec === fleet.specPath)) add(d.name, host);
      }
    }
    for (const g of wanted ?? fleet?.guests ?? []) {
      // Where a guest without a domain may still have files: its pinned or recorded host, else the only one.
      const home = homeOf(g, recorded, selected);
      if (!found.some((t) => t.guest === g.name) && home && selected.some((h) => h.name === home)) add(g.name, home);
    }
    if (opts.all && fleet) {
      for (const h of selected) {
        for (const o of await kindOf(h).leftovers(h, fleet.specPath)) if (!found.some((t) => t.guest === o.name && t.host === h.name)) add(o.name, h.name, o.dir);
      }
    }
    for (const t of found) if (found.filter((x) => x.guest === t.guest).length > 1) t.name = `${t.guest}@${t.host}`;
    const touched = new Set<string>();
    const results = await forEachGuest(found, async (t, progress) => {
      const s = hosts.session(t.host);
      touched.add(t.host);
      const dom = await s.lv.domain(t.guest);
      const owner = dom ? domainFacts(dom.xml).owner : undefined;
      if (dom && !owner) throw new RefusedError(foreign(t.guest));
      const dir = owner?.dir || t.dir;
      const lock = await lockGuest(s.host.connect, t.guest, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}`) });
      try {
        const removed: string[] = [];
        if (dom) {
          if (dom.running) {
            progress('stopping');
            await s.lv.destroy(t.guest);
          }
          progress('undefining');
          await s.lv.undefine(t.guest);
          removed.push('domain');
        }
        const files = await (await s.store()).removeGuest(t.guest, dir);
        if (files) removed.push(`${files} file${files === 1 ? '' : 's'}`);
        return { outcome: removed.length ? `removed (${removed.join(', ')})` : 'already gone', host: t.host };
      } finally {
        await lock.release();
      }
    }, opts);
    for (const r of results) r.host ??= found.find((t) => t.name === r.name)?.host;
    // Shared images no flakevirt domain on a host uses any more: GC roots locally, uploaded volumes remotely.
    await Promise.all([...touched].map(async (name) => {
      const s = hosts.get(name).session;
      if (!s) return;
      // A domain that cannot be read keeps everything: its XML text stands in for its files.
      const files = (await s.lv.domains()).flatMap((d) => { const dom = parseDomain(d.xml); return dom ? domainFiles(dom) : [d.xml]; });
      for (const v of await (await s.store()).dropUnused(files)) if (!opts.json) process.stderr.write(`flakevirt: removed ${v} from host ${name} (no guest uses it)\n`);
    }));
    printResults(results, { ...opts, showHost: (fleet?.hosts.length ?? 1) > 1 });
  } finally {
    await hosts.close();
  }
}
