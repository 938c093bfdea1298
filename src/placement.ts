// Which host each guest runs on. Pure and deterministic: the same spec, the same hosts and the same
// record give the same answer, and a guest that exists somewhere (or was put somewhere before) stays.
import type { SpecIssue } from './errors.js';
import { formatSize } from './spec/units.js';

export interface PlacementGuest {
  name: string;
  memoryBytes: number;
  vcpus: number;
  /** Pinned by the spec. */
  host?: string;
  /** An imageless guest: it runs only on a host that runs them (one on this machine, where its closure and kernel are). */
  imageless?: boolean;
}

export interface PlacementHost {
  name: string;
  /** Memory flakevirt may use there: declared, or the host's memory minus other domains'; undefined when unknown. */
  memoryBytes?: number;
  /** Declared vCPU limit; undefined = no limit. */
  vcpus?: number;
  /** Where memoryBytes comes from. */
  memorySource?: MemorySource;
  /** It runs imageless guests (a libvirtd on this machine). */
  runsImageless?: boolean;
}

/**
 * Why an imageless guest cannot go to a remote host: the domain names this machine's /nix/store
 * (the closure) and the kernel's files here; copying them to another host (nix copy, the modules
 * through the storage API) is not built yet.
 */
function imagelessMessage(guest: string, host?: string): string {
  return `${guest} is imageless: it boots a closure in this machine's /nix/store and a kernel from this machine's files, so it runs only on a libvirt host on this machine${host ? `, not on ${host}` : ''}; pin it to a local host, or give it a Nix-built image (remove imageless:)`;
}

/** How a host's memory for the fleet came about (plan shows it). */
export type MemorySource =
  | { from: 'declared' }
  | { from: 'host'; nodeBytes: number; othersRunning: number; othersBytes: number }
  | { from: 'recorded' };

/**
 * What a host has left for the fleet when the spec declares no `memory` for it, with its terms: its
 * memory minus what the *running* domains that are not the spec's guests use. A shut-off domain uses
 * nothing (counting 48 of them gave a negative capacity and refused a 256 MiB guest), and the spec's
 * own guests are counted by `place` itself.
 */
export function memoryAccount(nodeBytes: number, domains: ReadonlyArray<{ name: string; running: boolean; memoryBytes: number }>, specGuests: ReadonlySet<string>): { left: number; source: MemorySource } {
  const others = domains.filter((d) => d.running && !specGuests.has(d.name));
  const othersBytes = others.reduce((a, d) => a + d.memoryBytes, 0);
  return { left: nodeBytes - othersBytes, source: { from: 'host', nodeBytes, othersRunning: others.length, othersBytes } };
}

export type Why = 'pinned' | 'exists there' | 'placed before' | 'placed';

export interface Placement {
  hostOf: Map<string, string>;
  why: Map<string, Why>;
}

export interface PlacementInput {
  guests: PlacementGuest[];
  /** In spec order (ties go to the earlier host). */
  hosts: PlacementHost[];
  /** Where a guest's domain is now, on the hosts that answered. */
  existing: ReadonlyMap<string, string>;
  /** Where earlier runs put guests (the placement record). */
  recorded: ReadonlyMap<string, string>;
}

export type PlacementResult = { ok: true; placement: Placement } | { ok: false; issues: SpecIssue[]; table: string };

export function place({ guests, hosts, existing, recorded }: PlacementInput): PlacementResult {
  const names = new Set(hosts.map((h) => h.name));
  const hostOf = new Map<string, string>();
  const why = new Map<string, Why>();
  const issues: SpecIssue[] = [];
  const assign = (g: PlacementGuest, h: string, w: Why) => {
    hostOf.set(g.name, h);
    why.set(g.name, w);
  };
  const open: PlacementGuest[] = [];
  for (const g of guests) {
    const there = existing.get(g.name);
    if (there !== undefined && g.host !== undefined && there !== g.host) {
      issues.push({ path: `guests.${g.name}.host`, message: `${g.name} exists on host ${there} but the spec pins it to ${g.host}; flakevirt does not move guests: run "flakevirt down ${g.name}" first (its extra disks go with it), or pin it to ${there}` });
    } else if (g.imageless && g.host !== undefined && hosts.some((h) => h.name === g.host && !h.runsImageless)) {
      issues.push({ path: `guests.${g.name}.host`, message: imagelessMessage(g.name, g.host) });
    } else if (there !== undefined) assign(g, there, 'exists there');
    else if (g.host !== undefined) assign(g, g.host, 'pinned');
    else if (recorded.has(g.name) && names.has(recorded.get(g.name)!)) assign(g, recorded.get(g.name)!, 'placed before');
    else open.push(g);
  }
  const used = new Map(hosts.map((h) => [h.name, { memory: 0, vcpus: 0 }]));
  for (const [g, h] of hostOf) {
    const guest = guests.find((x) => x.name === g)!;
    const u = used.get(h)!;
    u.memory += guest.memoryBytes;
    u.vcpus += guest.vcpus;
  }
  const free = (h: PlacementHost) => ({ memory: (h.memoryBytes ?? -Infinity) - used.get(h.name)!.memory, vcpus: (h.vcpus ?? Infinity) - used.get(h.name)!.vcpus });
  const unplaced: PlacementGuest[] = [];
  for (const g of open) {
    let best: PlacementHost | undefined;
    for (const h of hosts) {
      if (g.imageless && !h.runsImageless) continue;
      const f = free(h);
      if (f.memory < g.memoryBytes || f.vcpus < g.vcpus) continue;
      if (!best) best = h;
      else {
        const b = free(best);
        if (f.memory > b.memory || (f.memory === b.memory && f.vcpus > b.vcpus)) best = h;
      }
    }
    if (!best) {
      unplaced.push(g);
      continue;
    }
    assign(g, best.name, 'placed');
    used.get(best.name)!.memory += g.memoryBytes;
    used.get(best.name)!.vcpus += g.vcpus;
  }
  for (const g of unplaced) {
    issues.push({ path: `guests.${g.name}`, message: g.imageless && !hosts.some((h) => h.runsImageless) ? imagelessMessage(g.name) : `${g.name} (${formatSize(g.memoryBytes)}, ${g.vcpus} vCPUs) fits on no ${g.imageless ? 'local ' : ''}host; lower its memory or vcpus, raise a host's memory:/vcpus:, or add a host` });
  }
  // Pinned guests and guests placed before must fit too (existing ones already run there).
  for (const h of hosts) {
    const u = used.get(h.name)!;
    const newcomers = [...hostOf].filter(([g, x]) => x === h.name && why.get(g) !== 'exists there');
    if (!newcomers.length) continue;
    if ((h.memoryBytes !== undefined && u.memory > h.memoryBytes) || (h.vcpus !== undefined && u.vcpus > h.vcpus)) {
      issues.push({ path: `hosts.${h.name}`, message: `the guests put on ${h.name} need ${formatSize(u.memory)} and ${u.vcpus} vCPUs; it offers ${capacityText(h)}` });
    }
  }
  if (issues.length) return { ok: false, issues, table: placementTable(guests, hosts, hostOf, used) };
  return { ok: true, placement: { hostOf, why } };
}

/**
 * Where a guest without a domain lives, as far as the spec and the record say: its pinned host,
 * else where an earlier run put it, else the only host there is; undefined when unknown.
 */
export function homeOf(guest: { name: string; host?: string }, recorded: Readonly<Record<string, string>>, hosts: ReadonlyArray<{ name: string }>): string | undefined {
  return guest.host ?? recorded[guest.name] ?? (hosts.length === 1 ? hosts[0]!.name : undefined);
}

function capacityText(h: PlacementHost): string {
  return `${memoryText(h)}, and ${h.vcpus === undefined ? 'any number of vCPUs' : `${h.vcpus} vCPUs`}`;
}

/** A host's memory for the fleet with its arithmetic: "2.5GiB = 3GiB on the host − 512MiB of 1 running domain that is not the spec's". */
export function memoryText(h: PlacementHost): string {
  if (h.memoryBytes === undefined) return 'unknown memory (the host could not be asked; nothing is checked)';
  const src = h.memorySource;
  const left = h.memoryBytes < 0 ? `no memory (${formatSize(-h.memoryBytes)} short)` : formatSize(h.memoryBytes);
  if (!src || src.from === 'declared') return `${left}, declared (hosts.${h.name}.memory)`;
  if (src.from === 'recorded') return `${left}, as recorded when the host was last reached`;
  return `${left} = ${formatSize(src.nodeBytes)} on the host − ${formatSize(src.othersBytes)} of ${src.othersRunning} running domain${src.othersRunning === 1 ? ' that is' : 's that are'} not the spec's (shut-off domains take nothing; set hosts.${h.name}.memory to say otherwise)`;
}

/** The host table a refusal prints: capacity, what is put there, and the guests left over. */
function placementTable(guests: PlacementGuest[], hosts: PlacementHost[], hostOf: Map<string, string>, used: Map<string, { memory: number; vcpus: number }>): string {
  const rows = [['HOST', 'MEMORY', 'USED', 'VCPUS', 'USED', 'GUESTS']];
  for (const h of hosts) {
    const u = used.get(h.name)!;
    rows.push([h.name, h.memoryBytes === undefined ? '?' : formatSize(Math.max(0, h.memoryBytes)), formatSize(u.memory), h.vcpus === undefined ? '-' : String(h.vcpus), String(u.vcpus), [...hostOf].filter(([, x]) => x === h.name).map(([g]) => g).join(' ') || '-']);
  }
  const left = guests.filter((g) => !hostOf.has(g.name));
  if (left.length) rows.push(['(none)', '', formatSize(left.reduce((a, g) => a + g.memoryBytes, 0)), '', String(left.reduce((a, g) => a + g.vcpus, 0)), left.map((g) => g.name).join(' ')]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}
