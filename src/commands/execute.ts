// Carries out a plan's actions for one guest, in order.
import type { Action } from '../plan.js';
import type { Session, GuestTarget } from './session.js';
import { createDisk, createOverlay, exists, removeFile } from '../adapters/disks.js';
import { readManifest, removePartials, writeManifest, MANIFEST_VERSION } from '../adapters/guest-dir.js';
import { parseLabel } from '../adapters/host-facts.js';
import { leaseSnapshot, waitForLease } from '../adapters/wait-lease.js';
import type { Lease } from '../leases.js';
import type { Progress } from './runner.js';
import { formatSize } from '../spec/units.js';

/** The GC root flakevirt keeps in the pool for a Nix-built base image. */
export function gcRootLink(pool: string, storePath: string): string {
  return `${pool}/.gcroots/${storePath.split('/').pop()}`;
}

export interface ExecuteOptions {
  timeoutMs: number;
}

/** Files the guest owns in its directory (listed in the manifest so `down` removes exactly them). */
export function ownedFiles(t: GuestTarget): string[] {
  return [t.paths.root, ...t.desired.disks.map((d) => d.path), t.paths.console];
}

/** Runs the actions; returns the fresh lease when the plan waited for one. */
export async function execute(s: Session, t: GuestTarget, actions: Action[], progress: Progress, opts: ExecuteOptions): Promise<Lease | undefined> {
  const { guest, paths } = t;
  const net = await s.network(s.fleet!.network, { ensureActive: true });
  let startedAt = 0;
  let before = new Map<string, number>();
  let lease: Lease | undefined;
  for (const a of actions) {
    switch (a.kind) {
      case 'stop':
        progress('stopping');
        await s.lv.destroy(guest.name);
        break;
      case 'prepare-dir': {
        const old = await readManifest(paths);
        const files = [...new Set([...(old?.files ?? []), ...ownedFiles(t)])];
        await writeManifest(paths, { flakevirt: MANIFEST_VERSION, guest: guest.name, spec: s.fleet!.specPath, files });
        for (const n of await removePartials(paths)) progress(`removed ${n}, left by an interrupted run`);
        break;
      }
      case 'create-root':
        progress(`${a.replace ? 'replacing' : 'creating'} root overlay on ${t.base.path}`);
        if (a.replace) await removeFile(paths.root);
        // A Nix-built base stays alive against nix-collect-garbage while a guest uses it.
        if (t.base.storePath) await (await import('../adapters/nix.js')).addGcRoot(t.base.storePath, gcRootLink(s.fleet!.pool, t.base.storePath));
        await createOverlay(paths.root, t.base.path, t.baseInfo, guest.diskSizeBytes);
        break;
      case 'create-disk': {
        const path = paths.disk(a.disk);
        progress(`${a.replace ? 'recreating' : 'creating'} ${a.disk.device} (${a.disk.bus}, ${formatSize(a.disk.sizeBytes)} ${a.disk.format})`);
        if (a.replace) await removeFile(path);
        // Files named only in QEMU arguments are not relabeled by libvirt: hand them to qemu's user.
        const owner = a.disk.bus === 'nvme' && t.facts.nvme === 'commandline' && s.lv.isLocal ? parseLabel(t.facts.qemuLabel) : undefined;
        await createDisk(path, a.disk.format, a.disk.sizeBytes, owner);
        break;
      }
      case 'delete-file':
        progress(`deleting ${a.path} (no longer in the spec)`);
        await removeFile(a.path);
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
        break;
      case 'wait-lease':
        progress(`waiting for a fresh DHCP lease on ${net.name} (${net.leases.kind})`);
        lease = await waitForLease(net.leases, {
          guest: guest.name, mac: guest.mac, network: net.name, startedAt, leaseTime: await net.leaseTime(), before,
          timeoutMs: opts.timeoutMs, consoleLog: paths.console, domainState: () => s.lv.state(guest.name),
        });
        progress(`lease ${lease.ip}`);
        break;
    }
  }
  // Converged: the manifest lists exactly what the guest has now.
  const files = [];
  for (const f of ownedFiles(t)) if (f === paths.console || (await exists(f))) files.push(f);
  await writeManifest(paths, { flakevirt: MANIFEST_VERSION, guest: guest.name, spec: s.fleet!.specPath, files });
  return lease;
}
