// A command's connections to every host of the fleet, opened in parallel. A host that cannot be
// reached keeps its error, which its guests report; the other hosts carry on.
import { ToolError, SpecError } from '../errors.js';
import type { Fleet, Host } from '../model.js';
import type { DomainView } from '../adapters/libvirt.js';
import { factsOf } from '../adapters/facts-cache.js';
import { bootKindOf } from '../boot-kinds/kind.js';
import { kindOf } from '../host-kinds/kind.js';
import { memoryAccount, place, type MemorySource, type Placement, type PlacementHost } from '../placement.js';
import { readRecord, writeRecord } from '../adapters/placement-record.js';
import { Session } from './session.js';

export interface HostLink {
  host: Host;
  session?: Session;
  error?: Error;
}

/** "host box2: <what went wrong>", keeping the error's class (exit code). */
export function hostError(host: Host, e: unknown): Error {
  const text = e instanceof Error ? e.message : String(e);
  const message = `host ${host.name}: ${e instanceof ToolError ? text.split('\n  command:')[0] : text}`;
  if (e instanceof ToolError) return new ToolError({ message, command: e.command, ...(e.exitCode !== undefined && { exitCode: e.exitCode }), stderr: e.stderr, cause: e });
  const out = new Error(message, { cause: e });
  if (e instanceof Error) out.name = e.name;
  return out;
}

export class Hosts {
  private constructor(readonly links: HostLink[]) {}

  static async open(hosts: Host[], fleet?: Fleet): Promise<Hosts> {
    return new Hosts(await Promise.all(hosts.map(async (host): Promise<HostLink> => {
      try {
        return { host, session: await Session.open(host, fleet) };
      } catch (e) {
        return { host, error: hostError(host, e) };
      }
    })));
  }

  get(name: string): HostLink {
    return this.links.find((l) => l.host.name === name)!;
  }

  /** The session of a host, or its connection error thrown. */
  session(name: string): Session {
    const l = this.get(name);
    if (!l.session) throw l.error!;
    return l.session;
  }

  /** Domains of every reachable host (from the daemon's files where they can be read); a host that fails while listing gets that error. */
  async domains(): Promise<Map<string, DomainView[]>> {
    const out = new Map<string, DomainView[]>();
    await Promise.all(this.links.map(async (l) => {
      if (!l.session) return;
      try {
        out.set(l.host.name, (await kindOf(l.host).stateDomains(l.host)) ?? await l.session.lv.domains());
      } catch (e) {
        l.error = hostError(l.host, e);
      }
    }));
    return out;
  }

  /** Reports unreachable hosts on stderr (read commands carry on without them). */
  warnUnreachable(): void {
    for (const l of this.links) if (l.error) process.stderr.write(`warning: ${l.error.message.split('\n')[0]}\n`);
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((l) => l.session?.close()));
  }
}

/**
 * Where each of the fleet's guests runs (see placement.ts). `save` updates the placement record now;
 * otherwise `commit()` does, once the caller's other checks have passed (a refusal writes nothing).
 */
export async function placeFleet(fleet: Fleet, hosts: Hosts, { save = true } = {}): Promise<{ placement: Placement; capacity: PlacementHost[]; domains: Map<string, DomainView[]>; commit: () => Promise<void> }> {
  const [record, domains] = await Promise.all([readRecord(fleet.pool), hosts.domains()]);
  const names = new Set(fleet.guests.map((g) => g.name));
  const existing = new Map<string, string>();
  const capacity: PlacementHost[] = await Promise.all(fleet.hosts.map(async (h): Promise<PlacementHost> => {
    const link = hosts.get(h.name);
    const doms = domains.get(h.name);
    let memoryBytes = h.memoryBytes ?? record.capacity[h.connect];
    let memorySource: MemorySource | undefined = h.memoryBytes !== undefined ? { from: 'declared' } : memoryBytes !== undefined ? { from: 'recorded' } : undefined;
    if (link?.session && doms) {
      const facts = await factsOf(link.session.lv.uri, doms.map((d) => d.xml));
      doms.forEach((d, i) => { if (names.has(d.name) && facts[i]!.owner) existing.set(d.name, h.name); });
      if (h.memoryBytes === undefined) {
        const node = await link.session.lv.nodeInfo().catch(() => undefined);
        if (node) ({ left: memoryBytes, source: memorySource } = memoryAccount(node.memoryBytes, doms.map((d, i) => ({ name: d.name, running: d.running, memoryBytes: facts[i]!.memoryBytes })), names));
      }
      if (memoryBytes !== undefined) record.capacity[h.connect] = memoryBytes;
    }
    return { name: h.name, runsImageless: kindOf(h).runsImageless, ...(memoryBytes !== undefined && { memoryBytes }), ...(memorySource && { memorySource }), ...(h.vcpus !== undefined && { vcpus: h.vcpus }) };
  }));
  const guests = fleet.guests.map((g) => ({ ...g, imageless: bootKindOf(g.boot).ownKernel(g.boot) !== undefined }));
  const result = place({ guests, hosts: capacity, existing, recorded: new Map(Object.entries(record.guests)) });
  if (!result.ok) throw new SpecError(result.issues, `the guests do not fit on the hosts:\n${result.table.replace(/^/gm, '  ')}\n`);
  const commit = async () => {
    record.guests = { ...record.guests, ...Object.fromEntries(result.placement.hostOf) };
    await writeRecord(fleet.pool, record);
  };
  if (save) await commit();
  return { placement: result.placement, capacity, domains, commit };
}
