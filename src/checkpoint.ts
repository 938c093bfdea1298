// Checkpoints: a running guest's whole state — memory and every disk — as one point it can be put
// back to in well under a second. Pure: names, tags, what can hold a checkpoint, reading QEMU's
// snapshot list, and the one function that builds the monitor commands.
//
// How (measured on this machine, see README *Checkpoints*): QEMU's own `savevm` / `loadvm` inside
// the running QEMU, reached through libvirt (`virsh qemu-monitor-command --hmp`, local and remote
// alike). Memory and every disk go into internal snapshots of the guest's qcow2 files with one tag,
// taken while the guest is stopped, so memory and disks cannot disagree; `loadvm` puts back both
// in the same QEMU process (no new process, no new tap on the bridge): 0.3 s at 1 GiB here, where
// libvirt's external snapshot revert took 3.1 s and its save/restore 2.0 s, each plus ~4 s until
// the new tap forwarded. Disk state costs O(changed clusters), not a copy.
import { bootKindOf } from './boot-kinds/kind.js';
import type { SpecIssue } from './errors.js';
import type { Guest } from './model.js';
import { busOf } from './disks/bus.js';
import type { CheckpointRecord } from './render/checkpoint-record.js';
import { currentLease, type Lease } from './leases.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const TAG = /^fv-[a-z0-9-]{1,64}$/;

export const DEFAULT_CHECKPOINT = 'default';

/** Problems with a `--name` (exit 2). */
export function checkpointNameIssues(name: string): SpecIssue[] {
  return NAME.test(name) ? [] : [{ path: '--name', message: `${JSON.stringify(name)} is not a checkpoint name: 1-32 of [a-z0-9-], starting with a letter or digit` }];
}

/** A new tag for checkpoint `name`: unique per take, so a new checkpoint never overwrites the one it replaces. */
export function newTag(name: string, nowMs: number): string {
  return `fv-${name}-${nowMs.toString(36)}`;
}

/** Tags flakevirt makes (anything else in a disk is left alone). */
export function isOurTag(tag: string): boolean {
  return TAG.test(tag);
}

/** Why this guest (as the spec declares it) cannot have a checkpoint, by field; empty when it can. */
export function checkpointBlockers(guest: Guest): SpecIssue[] {
  const kind = bootKindOf(guest.boot).noCheckpoint;
  if (kind) return [{ path: `guests.${guest.name}`, message: kind }];
  return guest.disks.flatMap((d): SpecIssue[] => {
    const at = `guests.${guest.name}.disks.${d.device}`;
    const why = busOf(d).noCheckpoint;
    if (why) return [{ path: at, message: why }];
    if (d.format !== 'qcow2') return [{ path: `${at}.format`, message: `a ${d.format} disk cannot hold a checkpoint (QEMU keeps it inside qcow2 files): set format: qcow2 (\`flakevirt reimage --wipe-disks ${guest.name}\` then recreates the disk, empty)` }];
    return [];
  });
}

export type MonitorCommand = { op: 'savevm' | 'loadvm' | 'delvm'; tag: string } | { op: 'info snapshots' };

/**
 * The human-monitor command line for `op`: the one place a monitor command is put together. Only
 * flakevirt's own tags ([a-z0-9-]) ever appear in it, so nothing in it can be read as another
 * argument or command.
 */
export function monitorCommand(c: MonitorCommand): string {
  if (c.op === 'info snapshots') return c.op;
  if (!isOurTag(c.tag)) throw new Error(`internal: ${JSON.stringify(c.tag)} is not a flakevirt snapshot tag`);
  return `${c.op} ${c.tag}`;
}

export interface SnapshotList {
  /** Tags present on every disk (loadable), with QEMU's size of the saved memory ("126 MiB"). */
  complete: Map<string, string>;
  /** Tags present on some disks only (a root replaced by reimage, a half-deleted snapshot). */
  partial: Set<string>;
}

/** Reads `info snapshots` (HMP). */
export function parseSnapshotList(out: string): SnapshotList {
  const list: SnapshotList = { complete: new Map(), partial: new Set() };
  let section: 'complete' | 'partial' | undefined;
  for (const line of out.split('\n')) {
    if (/^List of snapshots present on all disks/.test(line)) section = 'complete';
    else if (/^List of partial/.test(line)) section = 'partial';
    else if (section && !/^ID\s/.test(line)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || !f[1]) continue;
      if (section === 'complete') list.complete.set(f[1], `${f[2]} ${f[3]}`);
      else list.partial.add(f[1]);
    }
  }
  return list;
}

/**
 * The failure `savevm`, `loadvm` or `delvm` reported, or undefined: they print nothing when they
 * succeed, and a failure as text ("Error: …") with virsh still exiting 0.
 */
export function monitorError(out: string): string | undefined {
  const t = out.trim();
  return t || undefined;
}

/** The records after taking `name` with `tag`: the old checkpoint of that name is replaced. */
export function withCheckpoint(records: readonly CheckpointRecord[], r: CheckpointRecord): { records: CheckpointRecord[]; replaced?: CheckpointRecord } {
  const replaced = records.find((x) => x.name === r.name);
  return { records: [...records.filter((x) => x.name !== r.name), r], ...(replaced && { replaced }) };
}

/** Our tags on the disks that no record names (a checkpoint interrupted before its record was written, or replaced). */
export function orphanTags(list: SnapshotList, records: readonly CheckpointRecord[]): string[] {
  const kept = new Set(records.map((r) => r.tag));
  return [...new Set([...list.complete.keys(), ...list.partial])].filter((t) => isOurTag(t) && !kept.has(t));
}

/**
 * The address a guest has after a reset to `rec`: the checkpoint's boot's lease, still valid in the
 * network's lease table, or `expired` when dnsmasq no longer lists it for the guest's MAC (the guest
 * keeps using it until its DHCP client renews; ips and the inventory go by the table).
 */
export function leaseAfterReset(rec: CheckpointRecord, leases: readonly Lease[], mac: string, now: number): { ip?: string; expired: boolean } {
  const lease = currentLease(leases, mac, now);
  const want = rec.boot?.lease;
  if (lease && (!want || lease.ip === want)) return { ip: lease.ip, expired: false };
  return { ...(want && { ip: want }), expired: true };
}
