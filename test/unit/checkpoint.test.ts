// Checkpoints, the pure part: names, tags, which guests can have one, QEMU's snapshot list, the
// record in the domain's metadata (through the real XML reader), and what up/reimage drop.
import { describe, expect, it } from 'vitest';
import { checkpointBlockers, checkpointNameIssues, isOurTag, leaseAfterReset, monitorCommand, monitorError, newTag, orphanTags, parseSnapshotList, withCheckpoint } from '../../src/checkpoint.js';
import { checkpointsXml, CHECKPOINT_NS, type CheckpointRecord } from '../../src/render/checkpoint-record.js';
import { domainFacts } from '../../src/ownership.js';
import { planReimage, planUp, type Desired } from '../../src/plan.js';
import { fleetFrom } from '../helpers/fixtures.js';
import { guestState, fingerprint } from '../../src/render/state.js';
import { guestPaths } from '../../src/render/paths.js';
import { ago } from '../../src/commands/checkpoint.js';

const guestOf = (disks: string) => fleetFrom(`guests:\n  g1:\n    image: /b.qcow2\n    disks:\n${disks}`).guests[0]!;

describe('checkpoint names and tags', () => {
  it('takes short lowercase names and refuses the rest naming --name', () => {
    for (const ok of ['default', 'before-crash', 'a', '0-1']) expect(checkpointNameIssues(ok)).toEqual([]);
    for (const bad of ['', 'A', '-x', 'a b', 'a;quit', 'x'.repeat(33), 'ü', 'a\nb']) expect(checkpointNameIssues(bad)[0]).toMatchObject({ path: '--name' });
  });
  it('makes a new tag per take, in the charset the monitor command allows', () => {
    const a = newTag('default', 1_700_000_000_000);
    const b = newTag('default', 1_700_000_000_001);
    expect(a).not.toBe(b);
    expect(isOurTag(a) && isOurTag(b)).toBe(true);
    expect(monitorCommand({ op: 'loadvm', tag: a })).toBe(`loadvm ${a}`);
  });
  it('never puts anything but its own tag into a monitor command', () => {
    for (const tag of ['fv-a quit', 'fv-a;info', 'snap1', 'fv-', `fv-${'a'.repeat(65)}`, 'fv-a\nquit']) expect(() => monitorCommand({ op: 'savevm', tag })).toThrow(/not a flakevirt snapshot tag/);
    expect(monitorCommand({ op: 'info snapshots' })).toBe('info snapshots');
  });
  it('reads the monitor\'s silence as success and any text as its failure', () => {
    expect(monitorError('')).toBeUndefined();
    expect(monitorError('\n')).toBeUndefined();
    expect(monitorError("Error: State blocked by non-migratable device '0000:00:10.0:00.0/nvme'\n")).toMatch(/non-migratable/);
  });
});

describe('which guests can have a checkpoint', () => {
  it('a guest with only qcow2 virtio disks can', () => {
    expect(checkpointBlockers(guestOf('      /dev/vdb: { size: 1GiB, format: qcow2 }\n'))).toEqual([]);
    expect(checkpointBlockers(fleetFrom('guests:\n  g1:\n    image: /b.qcow2\n').guests[0]!)).toEqual([]);
  });
  it('an NVMe disk blocks it, naming QEMU\'s reason and the way out', () => {
    const [i] = checkpointBlockers(guestOf('      /dev/nvme0n1: { size: 1GiB, format: qcow2 }\n'));
    expect(i!.path).toBe('guests.g1.disks./dev/nvme0n1');
    expect(i!.message).toMatch(/NVMe controller cannot save its state \(hw\/nvme\/ctrl\.c/);
    expect(i!.message).toMatch(/virtio disks/);
  });
  it('a raw disk blocks it, naming the field and the fix', () => {
    const [i] = checkpointBlockers(guestOf('      /dev/vdb: { size: 1GiB }\n'));
    expect(i).toMatchObject({ path: 'guests.g1.disks./dev/vdb.format' });
    expect(i!.message).toMatch(/set format: qcow2/);
  });
});

describe("QEMU's snapshot list (HMP info snapshots, as QEMU 10.0 prints it)", () => {
  // Printed here by `virsh qemu-monitor-command --hmp GUEST 'info snapshots'` after a reimage left
  // one tag in the extra disks only.
  const partial = `List of snapshots present on all disks:
None

List of partial (non-loadable) snapshots on '':
ID      TAG               VM_SIZE                DATE        VM_CLOCK     ICOUNT
1       fv-test1              0 B 2026-12-01 14:39:18  0000:00:13.783         --
`;
  const complete = `List of snapshots present on all disks:
ID      TAG               VM_SIZE                DATE        VM_CLOCK     ICOUNT
--      fv-default-mx4t5kvo          123 MiB 2026-12-01 14:44:21  0000:03:41.400         --
--      manual            12 MiB 2026-12-01 14:40:00  0000:00:10.000         --
`;
  it('tells loadable tags (with the memory size) from partial ones', () => {
    expect(parseSnapshotList(complete)).toEqual({ complete: new Map([['fv-default-mx4t5kvo', '123 MiB'], ['manual', '12 MiB']]), partial: new Set() });
    expect(parseSnapshotList(partial)).toEqual({ complete: new Map(), partial: new Set(['fv-test1']) });
    expect(parseSnapshotList('There is no snapshot available.\n')).toEqual({ complete: new Map(), partial: new Set() });
  });
  it('orphans are our tags no record names; a snapshot someone else made stays', () => {
    const rec: CheckpointRecord = { name: 'default', tag: 'fv-default-mx4t5kvo', takenAt: 1, fingerprint: 'f' };
    expect(orphanTags(parseSnapshotList(complete), [rec])).toEqual([]);
    expect(orphanTags(parseSnapshotList(complete), [])).toEqual(['fv-default-mx4t5kvo']);
    expect(orphanTags(parseSnapshotList(partial), [rec])).toEqual(['fv-test1']);
  });
});

describe('the record in the domain metadata', () => {
  const boot = { startedAt: 1796136029, before: new Map([['192.168.122.161', 1796139555]]), lease: '192.168.122.161' };
  const recs: CheckpointRecord[] = [
    { name: 'default', tag: 'fv-default-1', takenAt: 1796136100, fingerprint: 'abc', boot },
    { name: 'before-crash', tag: 'fv-before-crash-2', takenAt: 1796136200, fingerprint: 'abc' },
  ];
  // As libvirt prints it after `virsh metadata --uri NS --key fvckpt --set …`: the namespace on every element.
  const domain = (inner: string) => `<domain type='qemu'><name>g1</name><metadata>${inner}</metadata><devices/></domain>`;
  const asLibvirtPrints = (xml: string) => xml.replace('<checkpoints>', `<fvckpt:checkpoints xmlns:fvckpt="${CHECKPOINT_NS}">`).replace('</checkpoints>', '</fvckpt:checkpoints>').replace(/<checkpoint /g, '<fvckpt:checkpoint ');

  it('round-trips through the real domain XML reader, boot record included', () => {
    expect(domainFacts(domain(asLibvirtPrints(checkpointsXml(recs)))).checkpoints).toEqual(recs);
  });
  it('escapes what it writes and drops a malformed entry instead of trusting it', () => {
    const xml = checkpointsXml([{ name: 'a"<&>', tag: 'fv-a-1', takenAt: 5, fingerprint: '"/><x/>' }]);
    expect(xml).not.toContain('"<&>');
    expect(domainFacts(domain(asLibvirtPrints(xml))).checkpoints).toEqual([{ name: 'a"<&>', tag: 'fv-a-1', takenAt: 5, fingerprint: '"/><x/>' }]);
    const planted = `<fvckpt:checkpoints xmlns:fvckpt="${CHECKPOINT_NS}"><fvckpt:checkpoint name="x" tag="fv-x;quit" taken="1" fingerprint="f"/><fvckpt:checkpoint name="y" tag="fv-y" taken="-1" fingerprint="f"/></fvckpt:checkpoints>`;
    expect(domainFacts(domain(planted)).checkpoints).toBeUndefined();
    // Another namespace's element of the same name is not ours.
    expect(domainFacts(domain(`<o:checkpoints xmlns:o="urn:other"><o:checkpoint name="x" tag="fv-x" taken="1" fingerprint="f"/></o:checkpoints>`)).checkpoints).toBeUndefined();
  });
  it('a new take of a name replaces the old one and says which', () => {
    const next: CheckpointRecord = { name: 'default', tag: 'fv-default-3', takenAt: 1796136300, fingerprint: 'abc' };
    const r = withCheckpoint(recs, next);
    expect(r.records.map((x) => x.tag)).toEqual(['fv-before-crash-2', 'fv-default-3']);
    expect(r.replaced?.tag).toBe('fv-default-1');
  });
  it('says how long ago', () => {
    expect(ago(100, 105)).toBe('5 s ago');
    expect(ago(0, 600)).toBe('10 min ago');
    expect(ago(0, 4 * 3600)).toBe('4 h ago');
  });
});

describe('the lease after a reset', () => {
  const mac = '52:54:00:aa:bb:cc';
  const rec: CheckpointRecord = { name: 'default', tag: 'fv-default-1', takenAt: 1000, fingerprint: 'f', boot: { startedAt: 900, before: new Map(), lease: '192.168.122.5' } };
  it('is the checkpoint\'s boot\'s lease while dnsmasq still lists it', () => {
    expect(leaseAfterReset(rec, [{ ip: '192.168.122.5', mac, expiry: 5000 }], mac, 2000)).toEqual({ ip: '192.168.122.5', expired: false });
  });
  it('is expired once its time is up, or when the MAC holds another address now (the guest still uses its old one)', () => {
    expect(leaseAfterReset(rec, [{ ip: '192.168.122.5', mac, expiry: 1500 }], mac, 2000)).toEqual({ ip: '192.168.122.5', expired: true });
    expect(leaseAfterReset(rec, [{ ip: '192.168.122.9', mac, expiry: 5000 }], mac, 2000)).toEqual({ ip: '192.168.122.5', expired: true });
    expect(leaseAfterReset(rec, [], mac, 2000)).toEqual({ ip: '192.168.122.5', expired: true });
  });
  it('without a recorded lease takes what the table says', () => {
    const { boot: _b, ...bare } = rec;
    expect(leaseAfterReset(bare, [{ ip: '192.168.122.7', mac, expiry: 5000 }], mac, 2000)).toEqual({ ip: '192.168.122.7', expired: false });
    expect(leaseAfterReset(bare, [], mac, 2000)).toEqual({ expired: true });
  });
});

describe('up and reimage drop checkpoints that no longer fit', () => {
  const fleet = fleetFrom('guests:\n  g1:\n    image: /b.qcow2\n    disks:\n      /dev/vdb: { size: 1GiB, format: qcow2 }\n');
  const g = fleet.guests[0]!;
  const desiredWith = (memory: string): Desired => {
    const f = fleetFrom(`guests:\n  g1:\n    image: /b.qcow2\n    memory: ${memory}\n    disks:\n      /dev/vdb: { size: 1GiB, format: qcow2 }\n`);
    const state = guestState(f, f.guests[0]!, { path: '/b.qcow2', id: 'b1' }, { domainType: 'qemu', nvme: 'commandline' }, 'T');
    const p = guestPaths(f.pool, g.name);
    return { state, fingerprint: fingerprint(state), root: p.root, disks: f.guests[0]!.disks.map((disk) => ({ disk, path: p.disk(disk) })) };
  };
  const d = desiredWith('4GiB');
  const owner = { spec: '/s', fingerprint: d.fingerprint, dir: '/d', base: '/b.qcow2', state: d.state };
  const files = new Set([d.root, d.disks[0]!.path]);
  const checkpoints: CheckpointRecord[] = [{ name: 'default', tag: 'fv-default-1', takenAt: 1, fingerprint: d.fingerprint }];
  const kinds = (p: ReturnType<typeof planUp>) => (p.kind === 'act' ? p.actions.map((a) => a.kind) : p.kind);
  const boot = { startedAt: 1, before: new Map(), lease: '192.168.122.2' };

  it('a running, unchanged guest keeps them (no-op)', () => {
    expect(planUp('g1', d, { domain: { running: true, owner, boot, checkpoints }, existing: files }).kind).toBe('noop');
  });
  it('a stopped, unchanged guest started again keeps them', () => {
    expect(kinds(planUp('g1', d, { domain: { running: false, owner, checkpoints }, existing: files }))).toEqual(['prepare-dir', 'start', 'wait-lease']);
  });
  it('a redefined guest drops them right after its start, saying why', () => {
    const p = planUp('g1', desiredWith('2GiB'), { domain: { running: true, owner, boot, checkpoints }, existing: files });
    expect(kinds(p)).toEqual(['stop', 'prepare-dir', 'define', 'start', 'drop-checkpoints', 'wait-lease']);
    expect(p.kind === 'act' && p.actions[4]).toMatchObject({ checkpoints, why: 'the guest was redefined' });
  });
  it('a recreated disk drops them', () => {
    const p = planUp('g1', d, { domain: { running: false, owner, checkpoints }, existing: new Set([d.root]) });
    expect(p.kind === 'act' && p.actions.find((a) => a.kind === 'drop-checkpoints')).toMatchObject({ why: 'a disk was recreated' });
  });
  it('reimage (a new root) drops them, also without a redefine', () => {
    const p = planReimage('g1', d, { domain: { running: true, owner, boot, checkpoints }, existing: files });
    expect(kinds(p)).toEqual(['stop', 'prepare-dir', 'create-root', 'start', 'drop-checkpoints', 'wait-lease']);
    expect(p.kind === 'act' && p.actions[4]).toMatchObject({ why: 'its root disk was replaced' });
  });
  it('nothing to drop, nothing added', () => {
    expect(kinds(planReimage('g1', d, { domain: { running: true, owner, boot }, existing: files }))).toEqual(['stop', 'prepare-dir', 'create-root', 'start', 'wait-lease']);
  });
});
