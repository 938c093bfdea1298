// Carries out a plan's actions for one guest, in order.
import type { Action } from '../plan.js';
import type { Session, GuestTarget } from './session.js';
import { leaseSnapshot, waitForLease } from '../adapters/wait-lease.js';
import type { Lease } from '../leases.js';
import type { Progress } from './runner.js';
import { formatSize } from '../spec/units.js';
import { BOOT_KEY, BOOT_NS, bootRecordXml } from '../render/boot-record.js';
import { busOf } from '../disks/bus.js';
import { bootRegion, followBoot } from '../adapters/health-log.js';
import { CHECKPOINT_KEY, CHECKPOINT_NS, type CheckpointRecord } from '../render/checkpoint-record.js';

export interface ExecuteOptions {
  timeoutMs: number;
}

/** Files the guest owns on its host (recorded so `down` removes exactly them). */
export function ownedFiles(t: GuestTarget): string[] {
  return [...(t.desired.root !== undefined ? [t.desired.root] : []), ...t.desired.disks.map((d) => d.path), t.paths.console];
}

/** Runs the actions; returns the fresh lease when the plan waited for one. */
export async function execute(s: Session, t: GuestTarget, actions: Action[], progress: Progress, opts: ExecuteOptions): Promise<Lease | undefined> {
  const { guest, paths } = t;
  const net = await s.network(s.fleet!.network, { ensureActive: true });
  const store = await s.store();
  let startedAt = 0;
  let logFrom: number | undefined;
  let before = new Map<string, number>();
  let lease: Lease | undefined;
  for (const a of actions) {
    switch (a.kind) {
      case 'stop':
        progress('stopping');
        await s.lv.destroy(guest.name);
        break;
      case 'prepare-dir':
        await store.prepare(guest.name, paths, ownedFiles(t), progress);
        break;
      case 'create-root':
        if (!t.baseInfo) throw new Error(`internal: ${guest.name} has no base image to put a root overlay on`);
        progress(`${a.replace ? 'replacing' : 'creating'} root overlay on ${t.base.path}`);
        if (a.replace) await store.remove(paths.root);
        await store.createOverlay(paths.root, t.base.path, t.baseInfo, guest.diskSizeBytes);
        break;
      case 'create-disk': {
        const path = paths.disk(a.disk);
        progress(`${a.replace ? 'recreating' : 'creating'} ${a.disk.device} (${a.disk.bus}, ${formatSize(a.disk.sizeBytes)} ${a.disk.format})`);
        if (a.replace) await store.remove(path);
        // Files named only in QEMU arguments are not relabeled by libvirt: hand them to qemu's user.
        await store.createDisk(path, a.disk.format, a.disk.sizeBytes, busOf(a.disk).fileInQemuArguments(t.facts));
        break;
      }
      case 'delete-file':
        progress(`deleting ${a.path} (no longer in the spec)`);
        await store.remove(a.path);
        break;
      case 'define':
        progress('defining domain');
        await s.lv.define(t.xml);
        break;
      case 'start':
        before = leaseSnapshot(await net.leases.read(), guest.mac);
        startedAt = Math.floor(Date.now() / 1000);
        progress('starting');
        await s.lv.start(guest.name);
        await s.lv.virsh.setLiveMetadata(guest.name, BOOT_NS, BOOT_KEY, bootRecordXml({ startedAt, before }));
        break;
      case 'drop-checkpoints':
        progress(`checkpoint${a.checkpoints.length > 1 ? 's' : ''} ${a.checkpoints.map((c) => c.name).join(', ')} dropped: ${a.why}`);
        await dropCheckpoints(s, guest.name, a.checkpoints);
        break;
      case 'wait-lease':
        if (a.resume) ({ startedAt, before, logFrom } = a.resume);
        progress(`waiting for a fresh DHCP lease on ${net.name} (${net.leases.kind})`);
        lease = await waitForLease(net.leases, {
          guest: guest.name, mac: guest.mac, network: net.name, startedAt, leaseTime: await net.leaseTime(), before,
          timeoutMs: opts.timeoutMs, consoleLog: paths.console, readConsole: () => store.readConsole(paths), domainState: () => s.lv.state(guest.name),
          kernel: followBoot(store, paths, bootRegion({ startedAt, ...(logFrom && { logFrom }) })),
        });
        await s.lv.virsh.setLiveMetadata(guest.name, BOOT_NS, BOOT_KEY, bootRecordXml({ startedAt, before, lease: lease.ip, ...(logFrom && { logFrom }) }));
        progress(`lease ${lease.ip}`);
        break;
    }
  }
  // Converged: the guest owns exactly what it has now.
  await store.settle(guest.name, paths, ownedFiles(t));
  return lease;
}

/** Removes a running guest's checkpoint record and its snapshots from the disks that still hold them. */
export async function dropCheckpoints(s: Session, name: string, checkpoints: readonly CheckpointRecord[]): Promise<void> {
  await s.lv.virsh.setMetadata(name, CHECKPOINT_NS, CHECKPOINT_KEY, undefined, { live: true });
  // delvm removes the tag from every disk that has it and says nothing when none has.
  for (const c of checkpoints) await s.lv.virsh.monitor(name, { op: 'delvm', tag: c.tag }, `deleting checkpoint ${c.name} of ${name}`);
}
