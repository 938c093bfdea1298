// flakevirt list / ips: the flakevirt guests on a connection, their state and leased IP.
import { factsOf } from '../adapters/facts-cache.js';
import { currentLease, type Lease } from '../leases.js';
import { hostsFor, loadFleetIfAny, print, printJson, type GlobalOptions } from './context.js';
import type { Session } from './session.js';
import { Hosts } from './hosts.js';
import type { Fleet } from '../model.js';
import type { DomainView } from '../adapters/libvirt.js';
import { readRecord } from '../adapters/placement-record.js';
import { homeOf } from '../placement.js';
import { kindOf } from '../host-kinds/kind.js';
import { healthOfLogs, bootRegion } from '../adapters/health-log.js';
import { healthLine, type HealthState } from '../health/reports.js';
import { printable } from '../escape/terminal.js';

export interface GuestRow {
  name: string;
  /** The spec's name of the libvirt host it is on (or placed on); null when not known. */
  host: string | null;
  state: string;
  ip: string | null;
  base: string | null;
  disks: string[];
  inSpec: boolean;
  /** The kernel's health in the current boot (a shut-off guest: its last boot); null without a readable console log. */
  kernel: { state: HealthState; report: string | null; reports: number } | null;
}

/** Rows for every flakevirt domain on the hosts, plus spec guests that are not defined. */
export async function listRows(opts: GlobalOptions, { allowExample = false as false | 'present', health = true } = {}): Promise<GuestRow[]> {
  return (await listFleet(opts, { allowExample, health })).rows;
}

/** The spec (when there is one) and the rows; `health: false` leaves the console logs unread (kernel: null). */
export async function listFleet(opts: GlobalOptions, { allowExample = false as false | 'present', health = true } = {}): Promise<{ fleet?: Fleet; dir?: string; rows: GuestRow[] }> {
  const loaded = await loadFleetIfAny(opts, { allowExample });
  return { ...(loaded && { fleet: loaded.fleet, dir: loaded.dir }), rows: await rowsFor(opts, loaded?.fleet, health) };
}

async function rowsFor(opts: GlobalOptions, fleet: Fleet | undefined, health: boolean): Promise<GuestRow[]> {
  const selected = hostsFor(opts, fleet);
  const hosts = await Hosts.open(selected, fleet);
  try {
    const domains = await hosts.domains();
    hosts.warnUnreachable();
    const rows = (await Promise.all(hosts.links.map((l) => (l.session && domains.has(l.host.name) ? hostRows(l.session, domains.get(l.host.name)!, fleet, health) : [])))).flat();
    const recorded = fleet ? (await readRecord(fleet.pool)).guests : {};
    for (const g of fleet?.guests ?? []) {
      if (rows.some((r) => r.name === g.name)) continue;
      const host = homeOf(g, recorded, fleet!.hosts);
      if (opts.host?.length && !(host && selected.some((h) => h.name === host))) continue;
      const down = host ? hosts.links.find((l) => l.host.name === host)?.error : undefined;
      rows.push({ name: g.name, host: host ?? null, state: down ? 'unreachable' : 'not defined', ip: null, base: null, disks: g.disks.map((x) => x.device), inSpec: true, kernel: null });
    }
    return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.host ?? '') < (b.host ?? '') ? -1 : 1));
  } finally {
    await hosts.close();
  }
}

/** One host's flakevirt domains with their state and current lease. */
async function hostRows(s: Session, all: DomainView[], fleet: Fleet | undefined, withHealth: boolean): Promise<GuestRow[]> {
  const facts = await factsOf(s.lv.uri, all.map((d) => d.xml));
  const doms = all.map((d, i) => ({ d, f: facts[i]! })).filter((x) => x.f.owner);
  const leasesByNet = new Map<string, Lease[]>();
  for (const net of new Set(doms.flatMap((x) => x.f.networks))) {
    try {
      leasesByNet.set(net, await (await s.network(net)).leases.read());
    } catch {
      leasesByNet.set(net, []);
    }
  }
  const withLog = withHealth ? doms.filter((x) => x.f.consoleLog) : [];
  const reader = withLog.length ? await kindOf(s.host).consoleLog(s.host, s.lv) : undefined;
  const health = reader ? await healthOfLogs(s.lv.uri, withLog.map(({ d, f }) => ({ store: reader, paths: { ...kindOf(s.host).paths(s.host, d.name), console: f.consoleLog! }, region: bootRegion(f.boot) }))) : [];
  const healthOfDomain = new Map(withLog.map((x, i) => [x.d.name, health[i]]));
  const now = Math.floor(Date.now() / 1000);
  return doms.map(({ d, f }) => {
    const h = healthOfDomain.get(d.name);
    const leases = f.networks.flatMap((n) => leasesByNet.get(n) ?? []);
    const lease = d.running ? f.macs.map((m) => currentLease(leases, m, now)).find(Boolean) : undefined;
    return {
      name: d.name,
      host: s.host.name,
      state: d.state,
      ip: lease?.ip ?? null,
      base: f.owner!.base || null,
      disks: Object.keys(f.owner!.state).filter((k) => k.startsWith('disk ')).map((k) => k.slice(5)),
      inSpec: !!fleet?.guests.some((g) => g.name === d.name),
      kernel: h ? { state: h.state, report: h.first?.line ?? null, reports: h.count } : null,
    };
  });
}

export async function listCommand(opts: GlobalOptions): Promise<void> {
  const rows = await listRows(opts);
  if (opts.json) return printJson(rows);
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  const hw = Math.max(4, ...rows.map((r) => (r.host ?? '-').length));
  print(`${'NAME'.padEnd(w)}  ${'HOST'.padEnd(hw)}  ${'STATE'.padEnd(11)}  ${'IP'.padEnd(15)}  ${'KERNEL'.padEnd(6)}  BASE / DISKS`);
  for (const r of rows) {
    print(`${r.name.padEnd(w)}  ${(r.host ?? '-').padEnd(hw)}  ${r.state.padEnd(11)}  ${(r.ip ?? '-').padEnd(15)}  ${(r.kernel?.state ?? '-').padEnd(6)}  ${r.base ?? '-'}${r.disks.length ? ` + ${r.disks.join(' ')}` : ''}`);
    // The report's line is the guest's text: printed as text, never obeyed by the terminal.
    if (r.kernel?.report) print(`${' '.repeat(w)}  kernel: ${printable(healthLine(r.kernel.state, r.kernel.report, r.kernel.reports))} (flakevirt health ${r.name})`);
  }
}

export async function ipsCommand(opts: GlobalOptions): Promise<void> {
  const rows = await listRows(opts, { health: false });
  const running = rows.filter((r) => r.state === 'running');
  for (const r of running.filter((x) => !x.ip)) process.stderr.write(`warning: ${r.name} is running but holds no DHCP lease yet\n`);
  const withIp = running.filter((r) => r.ip);
  if (opts.json) return printJson(withIp.map((r) => ({ name: r.name, ip: r.ip })));
  for (const r of withIp) print(`${r.name} ${r.ip}`);
}
