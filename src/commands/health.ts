// flakevirt health [GUEST...]: every kernel report (oops, panic, hung task, warning) of each
// guest's current boot, with its trace, from its console log. Exit 1 when any guest has one.
import { SpecError } from '../errors.js';
import { factsOf } from '../adapters/facts-cache.js';
import { bootRegion, bootReports } from '../adapters/health-log.js';
import { healthLine, healthOf, type HealthState, type KernelReport } from '../health/reports.js';
import { kindOf } from '../host-kinds/kind.js';
import { printable } from '../escape/terminal.js';
import { hostsFor, loadFleetIfAny, print, printJson, type GlobalOptions } from './context.js';
import { Hosts } from './hosts.js';
import type { GuestStore } from '../adapters/store.js';
import type { GuestPaths } from '../render/paths.js';

/** up's and reimage's line for a guest that got its lease with kernel reports in this boot; undefined when there are none. */
export async function kernelWarning(store: Pick<GuestStore, 'readConsoleFrom'>, paths: GuestPaths, name: string, from = 0): Promise<string | undefined> {
  const scan = await bootReports(store, paths, { from }).catch(() => undefined);
  if (!scan) return undefined;
  const h = healthOf(scan);
  if (h.state === 'ok') return undefined;
  return `kernel ${printable(healthLine(h.state, h.first?.line, h.count))} (flakevirt health ${name})`;
}

export interface HealthOptions extends GlobalOptions {
  guests?: string[];
}

export interface GuestHealth {
  name: string;
  host: string;
  /** libvirt's state of the domain: a running guest's current boot, else its last one. */
  domain: string;
  state: HealthState | 'no log';
  log: string | null;
  /** Where the boot starts in the log (bytes). */
  bootAt: number | null;
  reports: Array<Pick<KernelReport, 'name' | 'state' | 'line' | 'offset'> & { source: string; excerpt: string[] }>;
  /** Reports beyond the ones listed (a boot keeps at most 32). */
  more: number;
}

export async function healthCommand(opts: HealthOptions): Promise<void> {
  const fleet = (await loadFleetIfAny(opts))?.fleet;
  const hosts = await Hosts.open(hostsFor(opts, fleet), fleet);
  const out: GuestHealth[] = [];
  try {
    const domains = await hosts.domains();
    hosts.warnUnreachable();
    for (const l of hosts.links) {
      const s = l.session;
      const doms = s ? domains.get(l.host.name) ?? [] : [];
      const facts = s ? await factsOf(s.lv.uri, doms.map((d) => d.xml)) : [];
      const ours = doms.map((d, i) => ({ d, f: facts[i]! })).filter(({ d, f }) => f.owner && (!opts.guests?.length || opts.guests.includes(d.name)) && (!fleet || opts.guests?.length || fleet.guests.some((g) => g.name === d.name)));
      const reader = ours.length ? await kindOf(l.host).consoleLog(l.host, s!.lv) : undefined;
      for (const { d, f } of ours) {
        const scan = f.consoleLog ? await bootReports(reader!, { ...kindOf(l.host).paths(l.host, d.name), console: f.consoleLog }, bootRegion(f.boot)).catch(() => undefined) : undefined;
        out.push({
          name: d.name,
          host: l.host.name,
          domain: d.state,
          state: scan ? healthOf(scan).state : 'no log',
          log: f.consoleLog ?? null,
          bootAt: scan?.bootAt ?? null,
          reports: (scan?.reports ?? []).map((r) => ({ name: r.name, state: r.state, line: r.line, offset: r.offset, source: r.source, excerpt: r.excerpt ?? [] })),
          more: scan ? scan.count - scan.reports.length : 0,
        });
      }
    }
  } finally {
    await hosts.close();
  }
  const missing = (opts.guests ?? []).filter((g) => !out.some((h) => h.name === g));
  if (missing.length) throw new SpecError(missing.map((g) => ({ path: 'guests', message: `no flakevirt domain named ${g}${fleet ? ` (the spec's guests: ${fleet.guests.map((x) => x.name).join(', ')})` : ''}` })), 'unknown guest');
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.host < b.host ? -1 : 1));
  if (out.some((h) => h.state !== 'ok')) process.exitCode = 1;
  if (opts.json) return printJson(out);
  const w = Math.max(4, ...out.map((h) => h.name.length));
  for (const h of out) {
    const boot = h.domain === 'running' ? 'this boot' : `last boot (${h.domain})`;
    print(`${h.name.padEnd(w)}  ${h.state.padEnd(5)}  ${h.log ? `${boot}: ${h.log} from byte ${h.bootAt}` : 'no console log'}${h.reports.length ? `, ${h.reports.length + h.more} report${h.reports.length + h.more > 1 ? 's' : ''}` : ''}`);
    for (const r of h.reports) {
      print(`  ${r.state}: ${printable(r.line)}  [${r.name}: ${r.source}]`);
      for (const line of r.excerpt.slice(1)) print(`    | ${printable(line)}`);
    }
    if (h.more) print(`  … ${h.more} more (read them in flakevirt console ${h.name} --log)`);
  }
}
