// flakevirt checkpoint / reset / checkpoints: a running guest's memory and disks saved as one point,
// and the guest put back to it without a boot (src/checkpoint.ts says how and why this way).
import { RefusedError, SpecError, ToolError, type SpecIssue } from '../errors.js';
import type { Guest } from '../model.js';
import { checkpointBlockers, checkpointNameIssues, leaseAfterReset, monitorError, newTag, orphanTags, parseSnapshotList, withCheckpoint, DEFAULT_CHECKPOINT } from '../checkpoint.js';
import { CHECKPOINT_KEY, CHECKPOINT_NS, checkpointsXml, type CheckpointRecord } from '../render/checkpoint-record.js';
import { BOOT_KEY, BOOT_NS, bootRecordXml } from '../render/boot-record.js';
import { domainFacts, type DomainFacts } from '../ownership.js';
import { foreign } from '../plan.js';
import { lockGuest } from '../adapters/lock.js';
import { hostsFor, loadFleet, loadFleetIfAny, pickGuests, print, printJson, type GlobalOptions } from './context.js';
import { Hosts } from './hosts.js';
import type { Session } from './session.js';
import { forEachGuest, printResults, type GuestResult, type Progress } from './runner.js';
import { factsOf } from '../adapters/facts-cache.js';

export interface CheckpointOptions extends GlobalOptions {
  guests?: string[];
  name?: string;
}

export interface ResetOptions extends CheckpointOptions {
  wait?: 'lease' | 'ssh';
  timeout?: number;
}

/** How long ago `at` (epoch seconds) was, for messages. */
export function ago(at: number, now = Math.floor(Date.now() / 1000)): string {
  const s = Math.max(0, now - at);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

type GuestOp = (s: Session, guest: Guest, facts: DomainFacts & { owner: NonNullable<DomainFacts['owner']> }, state: string, progress: Progress) => Promise<Omit<GuestResult, 'name' | 'ok' | 'seconds'>>;

/** Runs `op` for each picked guest of the spec that has a flakevirt domain, under the guest's lock. */
async function onEachGuest(opts: CheckpointOptions, op: GuestOp, refuse: (guests: Guest[]) => SpecIssue[] = () => []): Promise<void> {
  const name = opts.name ?? DEFAULT_CHECKPOINT;
  const bad = checkpointNameIssues(name);
  if (bad.length) throw new SpecError(bad, 'bad arguments');
  const { fleet } = await loadFleet(opts);
  const picked = pickGuests(fleet.guests, opts.guests);
  // What the spec rules out is refused before any host is asked (exit 2, nothing touched).
  const issues = refuse(picked);
  if (issues.length) throw new SpecError(issues, 'these guests cannot have a checkpoint');
  const hosts = await Hosts.open(hostsFor(opts, fleet), fleet);
  try {
    const domains = await hosts.domains();
    hosts.warnUnreachable();
    const hostOf = new Map<string, string>();
    for (const [host, doms] of domains) for (const d of doms) if (picked.some((g) => g.name === d.name)) hostOf.set(d.name, host);
    // With --host, the guests elsewhere are not this run's business.
    const guests = opts.host?.length ? picked.filter((g) => hostOf.has(g.name)) : picked;
    const results = await forEachGuest(guests, async (guest, progress) => {
      const host = hostOf.get(guest.name);
      if (!host) throw new RefusedError(`${guest.name} is not defined; run "flakevirt up ${guest.name}" first`);
      const s = hosts.session(host);
      const lock = await lockGuest(s.host.connect, guest.name, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}, which holds this guest`) });
      try {
        // Read again under the lock: another flakevirt may have changed it meanwhile.
        const dom = await s.lv.domain(guest.name);
        if (!dom) throw new RefusedError(`${guest.name} is not defined; run "flakevirt up ${guest.name}" first`);
        const facts = domainFacts(dom.xml);
        if (!facts.owner) throw new RefusedError(foreign(guest.name));
        return { ...(await op(s, guest, facts as DomainFacts & { owner: NonNullable<DomainFacts['owner']> }, dom.state, progress)), host };
      } finally {
        await lock.release();
      }
    }, opts);
    printResults(results, { ...opts, showHost: fleet.hosts.length > 1 });
  } finally {
    await hosts.close();
  }
}

const tagCommand = (guest: string, op: string, tag: string) => `virsh qemu-monitor-command --hmp ${guest} '${op} ${tag}'`;

/** Saves each running guest's memory and disks as checkpoint --name (default "default"), replacing one of that name. */
export async function checkpointCommand(opts: CheckpointOptions): Promise<void> {
  const name = opts.name ?? DEFAULT_CHECKPOINT;
  await onEachGuest(opts, async (s, guest, facts, state, progress) => {
    if (state !== 'running') throw new RefusedError(`${guest.name} is ${state}: a checkpoint is taken of a running guest; run "flakevirt up ${guest.name}" (or "flakevirt reset ${guest.name}") first`);
    const now = Date.now();
    const tag = newTag(name, now);
    progress(`saving memory and disks as checkpoint ${name}`);
    const err = monitorError(await s.lv.virsh.monitor(guest.name, { op: 'savevm', tag }, `taking checkpoint ${name} of ${guest.name}`));
    if (err) {
      // A failed savevm may have left the tag in some disks.
      await s.lv.virsh.monitor(guest.name, { op: 'delvm', tag }, `cleaning up checkpoint ${name} of ${guest.name}`).catch(() => undefined);
      throw new ToolError({ message: `${guest.name}: QEMU could not take the checkpoint: ${err}`, command: tagCommand(guest.name, 'savevm', tag) });
    }
    const record: CheckpointRecord = { name, tag, takenAt: Math.floor(now / 1000), fingerprint: facts.owner.fingerprint, ...(facts.boot && { boot: facts.boot }) };
    const { records, replaced } = withCheckpoint(facts.checkpoints ?? [], record);
    // The record names the new snapshot before the old one goes: a kill in between leaves the
    // new checkpoint in force and the old snapshot for the next checkpoint to delete.
    await s.lv.virsh.setMetadata(guest.name, CHECKPOINT_NS, CHECKPOINT_KEY, checkpointsXml(records), { live: true });
    const list = parseSnapshotList(await s.lv.virsh.monitor(guest.name, { op: 'info snapshots' }, `listing the checkpoints of ${guest.name}`));
    for (const t of orphanTags(list, records)) await s.lv.virsh.monitor(guest.name, { op: 'delvm', tag: t }, `deleting an old checkpoint of ${guest.name}`);
    const size = list.complete.get(tag);
    return { outcome: `checkpoint ${name} taken${size ? ` (memory ${size})` : ''}${replaced ? `, replacing the one taken ${ago(replaced.takenAt)}` : ''}` };
  }, (guests) => guests.flatMap(checkpointBlockers));
}

/** Puts each guest back to checkpoint --name: memory and disks, in the same QEMU when it runs. */
export async function resetCommand(opts: ResetOptions): Promise<void> {
  const name = opts.name ?? DEFAULT_CHECKPOINT;
  await onEachGuest(opts, async (s, guest, facts, state, progress) => {
    const rec = facts.checkpoints?.find((c) => c.name === name);
    if (!rec) {
      const others = facts.checkpoints?.length ? ` (it has: ${facts.checkpoints.map((c) => c.name).join(', ')})` : '';
      throw new RefusedError(`${guest.name} has no checkpoint named ${name}${others}; take one with "flakevirt checkpoint ${guest.name}${name === DEFAULT_CHECKPOINT ? '' : ` --name ${name}`}"`);
    }
    const live = state === 'running' || state === 'paused' || state === 'blocked';
    if (!live) {
      // A guest that powered off (a shutdown or power-fail test): a new QEMU, CPUs stopped, to load into.
      progress(`starting ${state} guest paused`);
      await s.lv.virsh.startPaused(guest.name);
    }
    // The boot goes on in the same console log: what it printed before the reset is not this state's.
    const store = await s.store();
    const logFrom = facts.consoleLog ? (await store.readConsoleFrom({ ...store.paths(guest.name), console: facts.consoleLog }, Number.MAX_SAFE_INTEGER).catch(() => undefined))?.size : undefined;
    progress(`loading checkpoint ${name} (taken ${ago(rec.takenAt)})`);
    const err = monitorError(await s.lv.virsh.monitor(guest.name, { op: 'loadvm', tag: rec.tag }, `loading checkpoint ${name} into ${guest.name}`));
    if (err) {
      if (/does not exist/.test(err)) {
        // loadvm checks that every disk holds the snapshot before it changes anything, and leaves
        // the CPUs stopped: the guest goes on as it was, and the record of what is gone goes.
        if (live && state !== 'paused') await s.lv.virsh.resume(guest.name);
        if (!live) await s.lv.destroy(guest.name);
        const rest = (facts.checkpoints ?? []).filter((c) => c !== rec);
        await s.lv.virsh.setMetadata(guest.name, CHECKPOINT_NS, CHECKPOINT_KEY, rest.length ? checkpointsXml(rest) : undefined, { live });
        throw new ToolError({ message: `${guest.name}: checkpoint ${name} is gone from its disks (QEMU: ${err}); nothing was restored and the guest is as it was. Take a new one with "flakevirt checkpoint ${guest.name}${name === DEFAULT_CHECKPOINT ? '' : ` --name ${name}`}"`, command: tagCommand(guest.name, 'loadvm', rec.tag) });
      }
      throw new ToolError({ message: `${guest.name}: loading checkpoint ${name} failed part-way (QEMU: ${err}); its disks may be at the checkpoint and its memory not. Run "flakevirt reimage ${guest.name}"`, command: tagCommand(guest.name, 'loadvm', rec.tag) });
    }
    // loadvm runs the CPUs again only if they ran before it.
    if (!live || state === 'paused') await s.lv.virsh.resume(guest.name);
    // The live boot record describes the boot the guest is in now: the checkpoint's, with its
    // kernel reports counted from where the console log was at the reset.
    if (rec.boot) await s.lv.virsh.setLiveMetadata(guest.name, BOOT_NS, BOOT_KEY, bootRecordXml({ ...rec.boot, ...(logFrom && { logFrom }) }));
    const net = await s.network(s.fleet!.network);
    const { ip, expired } = leaseAfterReset(rec, await net.leases.read(), guest.mac, Math.floor(Date.now() / 1000));
    if (expired) {
      progress(`warning: the lease of ${rec.boot?.lease ?? 'its address'} from the checkpoint's boot has expired on ${net.name}: the guest keeps that address until its DHCP client renews, and ips/inventory leave it out until then; take checkpoints again within the network's lease time`);
    }
    if (opts.wait === 'ssh' && ip) {
      progress(`waiting for ssh on ${ip}`);
      const { waitForSsh } = await import('../adapters/wait-ssh.js');
      // Right after loadvm the first connection attempt can be lost: retry every quarter second.
      progress(`ssh answers: ${await waitForSsh(guest.name, ip, (opts.timeout ?? 300) * 1000, { ...(s.host.jump && { jump: s.host.jump }), attemptMs: 250 })}`);
    }
    return { outcome: `reset to checkpoint ${name} (taken ${ago(rec.takenAt)})`, ...(ip && { ip }) };
  });
}

export interface CheckpointRow {
  guest: string;
  host: string;
  name: string;
  takenAt: number;
  tag: string;
}

/** `flakevirt checkpoints`: every checkpoint of the flakevirt guests on the hosts. */
export async function checkpointsCommand(opts: CheckpointOptions): Promise<void> {
  const fleet = (await loadFleetIfAny(opts))?.fleet;
  const hosts = await Hosts.open(hostsFor(opts, fleet), fleet);
  try {
    const domains = await hosts.domains();
    hosts.warnUnreachable();
    const rows: CheckpointRow[] = [];
    for (const l of hosts.links) {
      const doms = domains.get(l.host.name);
      if (!l.session || !doms) continue;
      const facts = await factsOf(l.session.lv.uri, doms.map((d) => d.xml));
      doms.forEach((d, i) => {
        const f = facts[i]!;
        if (!f.owner || (opts.guests?.length && !opts.guests.includes(d.name))) return;
        for (const c of f.checkpoints ?? []) rows.push({ guest: d.name, host: l.host.name, name: c.name, takenAt: c.takenAt, tag: c.tag });
      });
    }
    rows.sort((a, b) => (a.guest < b.guest ? -1 : a.guest > b.guest ? 1 : a.takenAt - b.takenAt));
    if (opts.json) return printJson(rows.map((r) => ({ ...r, taken: new Date(r.takenAt * 1000).toISOString() })));
    const w = Math.max(5, ...rows.map((r) => r.guest.length));
    const nw = Math.max(10, ...rows.map((r) => r.name.length));
    print(`${'GUEST'.padEnd(w)}  ${'CHECKPOINT'.padEnd(nw)}  TAKEN`);
    for (const r of rows) print(`${r.guest.padEnd(w)}  ${r.name.padEnd(nw)}  ${new Date(r.takenAt * 1000).toISOString()} (${ago(r.takenAt)})`);
  } finally {
    await hosts.close();
  }
}
