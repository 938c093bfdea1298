// Desired guest + observed state → the ordered actions a command takes. Pure.
import type { Disk } from './model.js';
import type { Ownership } from './ownership.js';
import { describeDisk, diffState, type GuestState } from './render/state.js';
import type { BootRecord } from './render/boot-record.js';
import type { CheckpointRecord } from './render/checkpoint-record.js';

export type Action =
  | { kind: 'prepare-dir' }
  | { kind: 'stop' }
  | { kind: 'create-root'; replace: boolean }
  | { kind: 'create-disk'; disk: Disk; replace: boolean }
  | { kind: 'delete-file'; path: string }
  | { kind: 'define' }
  | { kind: 'start' }
  /** After the start: the guest's checkpoints no longer fit it (`why`); their record and snapshots go. */
  | { kind: 'drop-checkpoints'; checkpoints: CheckpointRecord[]; why: string }
  /** `resume`: the guest runs already; wait for the lease of the boot that record describes. */
  | { kind: 'wait-lease'; resume?: BootRecord };

export interface Observed {
  /** undefined when no domain of that name exists. */
  domain?: { owner?: Ownership; running: boolean; boot?: BootRecord; checkpoints?: CheckpointRecord[] };
  /** Files that exist now, among the guest's root, disks and manifest. */
  existing: ReadonlySet<string>;
}

export interface Desired {
  state: GuestState;
  fingerprint: string;
  /** The root overlay; undefined for an imageless guest (its root is a tmpfs). */
  root?: string;
  disks: Array<{ disk: Disk; path: string }>;
}

export type Plan =
  | { kind: 'refuse'; reason: string }
  | { kind: 'noop'; reason: string }
  | { kind: 'act'; actions: Action[]; changes: string[]; why?: string };

/** What `up` does for one guest. Extra disks are never silently replaced: a changed one needs reimage --wipe-disks. */
export function planUp(name: string, desired: Desired, observed: Observed, previousDiskPaths: readonly string[] = []): Plan {
  const dom = observed.domain;
  if (dom && !dom.owner) return { kind: 'refuse', reason: foreign(name) };
  const has = (p: string) => observed.existing.has(p);
  const same = dom?.owner?.fingerprint === desired.fingerprint;
  const rootThere = desired.root === undefined || has(desired.root);
  const filesThere = rootThere && desired.disks.every((d) => has(d.path));
  if (dom && same && dom.running && filesThere) {
    // Up to date only once this boot's lease was seen: a start by an `up` that was interrupted
    // before its lease is finished by waiting; a boot flakevirt has no record of is started again.
    if (dom.boot?.lease) return { kind: 'noop', reason: 'running and up to date' };
    if (dom.boot) return { kind: 'act', actions: [{ kind: 'wait-lease', resume: dom.boot }], changes: [], why: 'running, but its lease for this boot was never seen' };
    return { kind: 'act', actions: [{ kind: 'stop' }, { kind: 'prepare-dir' }, { kind: 'start' }, { kind: 'wait-lease' }], changes: [], why: 'running, but flakevirt has no record of this boot getting a lease' };
  }

  const before = dom?.owner?.state ?? {};
  const changes = dom ? diffState(before, desired.state) : [];
  const changedDisks = desired.disks.filter(({ disk }) => {
    const was = before[`disk ${disk.device}`];
    return was !== undefined && was !== describeDisk(disk) && has(pathOf(desired, disk));
  });
  if (changedDisks.length) {
    return {
      kind: 'refuse',
      reason: `${name}: ${changedDisks.map((d) => d.disk.device).join(', ')} changed in the spec (${changes.filter((c) => c.startsWith('disk ')).join('; ')}); `
        + `recreating ${changedDisks.length > 1 ? 'them' : 'it'} would lose ${changedDisks.length > 1 ? 'their' : 'its'} data. Run "flakevirt reimage ${name} --wipe-disks" to recreate the extra disks, or put the old values back`,
    };
  }

  const actions: Action[] = [];
  const baseChanged = !!dom && before.base !== undefined && before.base !== desired.state.base;
  const rootSizeChanged = !!dom && before.rootSize !== undefined && before.rootSize !== desired.state.rootSize;
  const redefine = !dom || !same;
  if (dom?.running && (redefine || !filesThere)) actions.push({ kind: 'stop' });
  actions.push({ kind: 'prepare-dir' });
  if (desired.root !== undefined && (!rootThere || baseChanged || rootSizeChanged)) actions.push({ kind: 'create-root', replace: rootThere });
  for (const { disk, path } of desired.disks) if (!has(path)) actions.push({ kind: 'create-disk', disk, replace: false });
  const keep = new Set(desired.disks.map((d) => d.path));
  for (const p of previousDiskPaths) if (!keep.has(p) && has(p)) actions.push({ kind: 'delete-file', path: p });
  if (redefine) actions.push({ kind: 'define' });
  actions.push({ kind: 'start' }, { kind: 'wait-lease' });
  return { kind: 'act', actions: withCheckpointsDropped(actions, dom?.checkpoints), changes };
}

/**
 * A checkpoint loads only into the devices and disks it was taken from: a new definition, a new
 * root or a recreated disk makes every checkpoint of the guest unusable, and it is dropped (with
 * its snapshots in the disks that remain) right after the start, while QEMU runs to delete them.
 */
function withCheckpointsDropped(actions: Action[], checkpoints: CheckpointRecord[] | undefined): Action[] {
  if (!checkpoints?.length) return actions;
  const why = actions.some((a) => a.kind === 'define') ? 'the guest was redefined' : actions.some((a) => a.kind === 'create-root') ? 'its root disk was replaced' : actions.some((a) => a.kind === 'create-disk') ? 'a disk was recreated' : undefined;
  if (!why) return actions;
  const at = actions.findIndex((a) => a.kind === 'start') + 1;
  return [...actions.slice(0, at), { kind: 'drop-checkpoints', checkpoints, why }, ...actions.slice(at)];
}

/**
 * What `reimage` does: a fresh root overlay on the current base; extra disks kept unless wiped. An
 * imageless guest has nothing else to renew: its reimage is a restart (a fresh tmpfs root).
 */
export function planReimage(name: string, desired: Desired, observed: Observed, { wipeDisks = false } = {}): Plan {
  const dom = observed.domain;
  if (!dom) return { kind: 'refuse', reason: `${name} is not defined; run "flakevirt up ${name}" first` };
  if (!dom.owner) return { kind: 'refuse', reason: foreign(name) };
  const actions: Action[] = [];
  if (dom.running) actions.push({ kind: 'stop' });
  actions.push({ kind: 'prepare-dir' });
  if (desired.root !== undefined) actions.push({ kind: 'create-root', replace: true });
  for (const { disk, path } of desired.disks) {
    if (wipeDisks || !observed.existing.has(path)) actions.push({ kind: 'create-disk', disk, replace: observed.existing.has(path) });
  }
  const changes = diffState(dom.owner.state, desired.state);
  if (dom.owner.fingerprint !== desired.fingerprint) actions.push({ kind: 'define' });
  actions.push({ kind: 'start' }, { kind: 'wait-lease' });
  return { kind: 'act', actions: withCheckpointsDropped(actions, dom.checkpoints), changes };
}

export function foreign(name: string): string {
  return `a domain named "${name}" exists but was not created by flakevirt (no flakevirt metadata); flakevirt will not touch it. Rename the guest in the spec, or remove that domain yourself`;
}

function pathOf(desired: Desired, disk: Disk): string {
  return desired.disks.find((d) => d.disk.device === disk.device)!.path;
}
