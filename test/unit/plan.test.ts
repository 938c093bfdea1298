// What up and reimage decide from the desired and the observed state.
import { describe, expect, it } from 'vitest';
import { planReimage, planUp, type Desired, type Observed } from '../../src/plan.js';
import { fleetFrom } from '../helpers/fixtures.js';
import { guestState, fingerprint } from '../../src/render/state.js';
import { guestPaths } from '../../src/render/paths.js';
import type { Ownership } from '../../src/ownership.js';

function desiredOf(spec: string): Desired {
  const fleet = fleetFrom(spec);
  const g = fleet.guests[0]!;
  const state = guestState(fleet, g, { path: '/b.qcow2', id: 'b1' }, { domainType: 'qemu', nvme: 'commandline' }, 'T');
  const p = guestPaths(fleet.pool, g.name);
  return { state, fingerprint: fingerprint(state), root: p.root, manifest: p.manifest, disks: g.disks.map((disk) => ({ disk, path: p.disk(disk) })) };
}
const SPEC = 'guests:\n  g1:\n    image: /b.qcow2\n    disks:\n      /dev/vdb: { size: 1GiB }\n';
const d = desiredOf(SPEC);
const owner = (x: Desired): Ownership => ({ spec: '/s', fingerprint: x.fingerprint, dir: '/d', base: '/b.qcow2', state: x.state });
const allFiles = new Set([d.root, d.manifest, d.disks[0]!.path]);
const kinds = (p: ReturnType<typeof planUp>) => (p.kind === 'act' ? p.actions.map((a) => a.kind) : p.kind);

describe('planUp', () => {
  it('creates everything for a new guest, disks before define, lease last', () => {
    expect(kinds(planUp('g1', d, { existing: new Set() }))).toEqual(['prepare-dir', 'create-root', 'create-disk', 'define', 'start', 'wait-lease']);
  });
  it('does nothing for a running, unchanged guest whose lease for this boot was seen', () => {
    const boot = { startedAt: 1000, before: new Map(), lease: '192.168.122.9' };
    expect(planUp('g1', d, { domain: { running: true, owner: owner(d), boot }, existing: allFiles })).toEqual({ kind: 'noop', reason: 'running and up to date' });
  });
  it('waits for the lease of a boot an interrupted up started (never reports an earlier boot\'s lease)', () => {
    const boot = { startedAt: 1000, before: new Map([['192.168.122.9', 4600]]) };
    const p = planUp('g1', d, { domain: { running: true, owner: owner(d), boot }, existing: allFiles });
    expect(p).toMatchObject({ kind: 'act', actions: [{ kind: 'wait-lease', resume: boot }], changes: [] });
  });
  it('restarts a running guest flakevirt has no boot record for (its lease cannot be told from an earlier boot\'s)', () => {
    expect(kinds(planUp('g1', d, { domain: { running: true, owner: owner(d) }, existing: allFiles }))).toEqual(['stop', 'prepare-dir', 'start', 'wait-lease']);
  });
  it('starts a stopped, unchanged guest without redefining it', () => {
    expect(kinds(planUp('g1', d, { domain: { running: false, owner: owner(d) }, existing: allFiles }))).toEqual(['prepare-dir', 'start', 'wait-lease']);
  });
  it('finishes what a crash left: missing disk after define', () => {
    const partial = new Set([d.root, d.manifest]);
    expect(kinds(planUp('g1', d, { domain: { running: false, owner: owner(d) }, existing: partial }))).toEqual(['prepare-dir', 'create-disk', 'start', 'wait-lease']);
  });
  it('refuses a domain it does not own', () => {
    const p = planUp('g1', d, { domain: { running: true }, existing: new Set() });
    expect(p.kind).toBe('refuse');
    if (p.kind === 'refuse') expect(p.reason).toMatch(/not created by flakevirt/);
  });
  it('redefines and restarts on a change, and says what changed', () => {
    const bigger = desiredOf(SPEC.replace('image:', 'memory: 2GiB\n    image:'));
    const p = planUp('g1', bigger, { domain: { running: true, owner: owner(d) }, existing: allFiles });
    expect(kinds(p)).toEqual(['stop', 'prepare-dir', 'define', 'start', 'wait-lease']);
    if (p.kind === 'act') expect(p.changes).toEqual(['memory: 4GiB → 2GiB']);
  });
  it('refuses to recreate a changed extra disk (its data would be lost)', () => {
    const changed = desiredOf(SPEC.replace('size: 1GiB', 'size: 2GiB'));
    const p = planUp('g1', changed, { domain: { running: true, owner: owner(d) }, existing: allFiles });
    expect(p.kind).toBe('refuse');
    if (p.kind === 'refuse') expect(p.reason).toMatch(/\/dev\/vdb changed .*reimage g1 --wipe-disks/);
  });
  it('replaces the root overlay when the base image changed', () => {
    const moved: Ownership = { ...owner(d), fingerprint: 'old', state: { ...d.state, base: 'b0' } };
    expect(kinds(planUp('g1', d, { domain: { running: true, owner: moved }, existing: allFiles }))).toEqual(['stop', 'prepare-dir', 'create-root', 'define', 'start', 'wait-lease']);
  });
  it('deletes a disk that left the spec', () => {
    const without = desiredOf('guests:\n  g1:\n    image: /b.qcow2\n');
    const p = planUp('g1', without, { domain: { running: false, owner: owner(d) }, existing: allFiles }, [d.disks[0]!.path]);
    expect(p.kind === 'act' && p.actions.find((a) => a.kind === 'delete-file')).toEqual({ kind: 'delete-file', path: d.disks[0]!.path });
  });
});

describe('planReimage', () => {
  it('keeps extra disks by default and recreates them with wipeDisks', () => {
    const obs: Observed = { domain: { running: true, owner: owner(d) }, existing: allFiles };
    expect(kinds(planReimage('g1', d, obs))).toEqual(['stop', 'prepare-dir', 'create-root', 'start', 'wait-lease']);
    expect(kinds(planReimage('g1', d, obs, { wipeDisks: true }))).toEqual(['stop', 'prepare-dir', 'create-root', 'create-disk', 'start', 'wait-lease']);
  });
  it('refuses an undefined or foreign guest', () => {
    expect(planReimage('g1', d, { existing: new Set() }).kind).toBe('refuse');
    expect(planReimage('g1', d, { domain: { running: true }, existing: new Set() }).kind).toBe('refuse');
  });
});
