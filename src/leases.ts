// Which DHCP lease belongs to a boot. Pure: the lease list and times come in as arguments.
//
// dnsmasq keeps leases across guest restarts, so right after a restart the old lease is still
// listed. A lease counts for this boot only if it was granted after the boot began: its expiry
// minus the network's lease time is at or after the start, or its expiry moved past the value
// recorded just before the start (for a lease seen then, only the latter counts).
import { parseNetwork } from './libvirt-xml/network.js';

export interface Lease {
  ip: string;
  mac: string;
  /** Absolute expiry, epoch seconds; 0 means infinite. */
  expiry: number;
  hostname?: string;
}

export interface FreshLeaseQuery {
  mac: string;
  /** Epoch seconds, taken just before the domain was started. */
  startedAt: number;
  /** The network's lease time in seconds (libvirt's default is 3600). */
  leaseTime: number;
  /** Expiry of this MAC's leases seen just before the start (by IP). */
  before: ReadonlyMap<string, number>;
}

/** The newest lease for `mac` that was granted after the start, or undefined. */
export function freshLease(leases: readonly Lease[], q: FreshLeaseQuery): Lease | undefined {
  const mine = leases.filter((l) => l.mac.toLowerCase() === q.mac.toLowerCase() && l.ip.includes('.'));
  const fresh = mine.filter((l) => {
    if (l.expiry === 0) return !q.before.has(l.ip); // infinite leases: only a new one can be told apart
    // Seen before the start: fresh only if dnsmasq has granted it again since (its expiry moved).
    // This also covers a lease granted in the same second as the start, which the time test can't.
    const prior = q.before.get(l.ip);
    if (prior !== undefined) return l.expiry > prior;
    return l.expiry - q.leaseTime >= q.startedAt;
  });
  return fresh.sort((a, b) => b.expiry - a.expiry)[0];
}

/** The current (unexpired) lease for `mac`, for read commands; undefined when there is none. */
export function currentLease(leases: readonly Lease[], mac: string, now: number): Lease | undefined {
  return leases
    .filter((l) => l.mac.toLowerCase() === mac.toLowerCase() && l.ip.includes('.') && (l.expiry === 0 || l.expiry > now))
    .sort((a, b) => b.expiry - a.expiry)[0];
}

/** Parses libvirt's dnsmasq status file (a JSON array written by its leaseshelper). */
export function parseStatusFile(text: string): Lease[] {
  if (!text.trim()) return [];
  const raw = JSON.parse(text) as Array<Record<string, unknown>>;
  return raw.map((e) => ({
    ip: String(e['ip-address'] ?? ''),
    mac: String(e['mac-address'] ?? '').toLowerCase(),
    expiry: Number(e['expiry-time'] ?? 0),
    ...(typeof e.hostname === 'string' && { hostname: e.hostname }),
  }));
}

/** Parses `virsh net-dhcp-leases` output; expiry times are the client's local time. */
export function parseVirshLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+([0-9a-f:]{17})\s+(ipv4|ipv6)\s+(\S+?)(?:\/\d+)?\s+(\S+)/i.exec(line);
    if (!m) continue;
    const expiry = Math.floor(new Date(m[1]!.replace(' ', 'T')).getTime() / 1000);
    out.push({ ip: m[4]!, mac: m[2]!.toLowerCase(), expiry, ...(m[5] !== '-' && { hostname: m[5]! }) });
  }
  return out;
}

/** libvirt's DHCP lease time when the network sets none: an hour. */
export const DEFAULT_LEASE_SECONDS = 3600;

/** The lease time a network XML sets (<range><lease expiry unit/>), else libvirt's default hour. */
export function leaseTimeOf(networkXml: string): number {
  return parseNetwork(networkXml).leaseSeconds ?? DEFAULT_LEASE_SECONDS;
}
