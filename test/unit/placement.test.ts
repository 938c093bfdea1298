// Placement: deterministic, sticky, within capacity; refusals name the guests and print a table.
import { describe, expect, it } from 'vitest';
import { memoryAccount, place, type PlacementGuest, type PlacementHost } from '../../src/placement.js';

const GiB = 1024 ** 3;
const g = (name: string, memGiB = 4, vcpus = 2, host?: string): PlacementGuest => ({ name, memoryBytes: memGiB * GiB, vcpus, ...(host && { host }) });
const hosts: PlacementHost[] = [
  { name: 'local', memoryBytes: 16 * GiB },
  { name: 'box1', memoryBytes: 64 * GiB, vcpus: 32 },
  { name: 'box2', memoryBytes: 64 * GiB },
];
const none = new Map<string, string>();

function ok(r: ReturnType<typeof place>) {
  if (!r.ok) throw new Error(`${r.issues.map((i) => i.message).join('\n')}\n${r.table}`);
  return r.placement;
}

describe('placement', () => {
  it('fills hosts by free memory, then free vCPUs (undeclared = unlimited), then spec order, and says why', () => {
    const p = ok(place({ guests: [g('a'), g('b'), g('c'), g('d', 4, 2, 'local')], hosts, existing: none, recorded: none }));
    expect(Object.fromEntries(p.hostOf)).toEqual({ d: 'local', a: 'box2', b: 'box1', c: 'box2' });
    const equal = ok(place({ guests: [g('a'), g('b'), g('c')], hosts: [{ name: 'x', memoryBytes: 8 * GiB }, { name: 'y', memoryBytes: 8 * GiB }], existing: none, recorded: none }));
    expect(Object.fromEntries(equal.hostOf)).toEqual({ a: 'x', b: 'y', c: 'x' });
    expect(p.why.get('d')).toBe('pinned');
    expect(p.why.get('a')).toBe('placed');
  });

  it('gives the same answer for the same input', () => {
    const input = { guests: Array.from({ length: 12 }, (_, i) => g(`g${i}`, 1 + (i % 3))), hosts, existing: none, recorded: none };
    expect([...ok(place(input)).hostOf]).toEqual([...ok(place(input)).hostOf]);
  });

  it('never moves a guest that exists somewhere or was placed before, even when the spec grows', () => {
    const first = ok(place({ guests: [g('a'), g('b')], hosts, existing: none, recorded: none }));
    const grown = ok(place({ guests: [g('new0', 32), g('a'), g('b'), g('c')], hosts, existing: new Map([['a', first.hostOf.get('a')!]]), recorded: new Map([['b', first.hostOf.get('b')!]]) }));
    expect(grown.hostOf.get('a')).toBe(first.hostOf.get('a'));
    expect(grown.hostOf.get('b')).toBe(first.hostOf.get('b'));
    expect(grown.why.get('a')).toBe('exists there');
    expect(grown.why.get('b')).toBe('placed before');
  });

  it('keeps a declared vCPU limit', () => {
    const p = ok(place({ guests: [g('big', 1, 30), g('next', 1, 4)], hosts: [{ name: 'box1', memoryBytes: 64 * GiB, vcpus: 32 }, { name: 'box2', memoryBytes: 8 * GiB }], existing: none, recorded: none }));
    expect(p.hostOf.get('big')).toBe('box1');
    expect(p.hostOf.get('next')).toBe('box2'); // box1 has 56 GiB free but only 2 vCPUs
  });

  it('does not place new guests on a host whose capacity is unknown (unreachable, never seen)', () => {
    const p = ok(place({ guests: [g('a')], hosts: [{ name: 'gone' }, { name: 'box2', memoryBytes: 8 * GiB }], existing: none, recorded: none }));
    expect(p.hostOf.get('a')).toBe('box2');
  });

  it('refuses a spec that does not fit, with every guest left over and a table', () => {
    const r = place({ guests: [g('a', 40), g('b', 40), g('c', 40), g('huge', 100)], hosts, existing: none, recorded: none });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => i.path)).toEqual(['guests.c', 'guests.huge']);
    expect(r.issues[1]!.message).toMatch(/huge \(100GiB, 2 vCPUs\) fits on no host/);
    expect(r.table.split('\n')[0]).toMatch(/^HOST\s+MEMORY\s+USED\s+VCPUS\s+USED\s+GUESTS$/);
    expect(r.table).toMatch(/box1\s+64GiB\s+40GiB\s+32\s+2\s+b\n/);
    expect(r.table).toMatch(/local\s+16GiB\s+0B\s+-\s+0\s+-\n/);
    expect(r.table).toMatch(/\(none\)\s+140GiB\s+4\s+c huge/);
  });

  it('refuses pinned guests that overfill their host', () => {
    const r = place({ guests: [g('a', 10, 2, 'local'), g('b', 10, 2, 'local')], hosts, existing: none, recorded: none });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]).toMatchObject({ path: 'hosts.local', message: expect.stringMatching(/need 20GiB and 4 vCPUs; it offers 16GiB/) });
  });

  it('refuses to move an existing guest the spec now pins elsewhere', () => {
    const r = place({ guests: [g('a', 4, 2, 'box2')], hosts, existing: new Map([['a', 'box1']]), recorded: none });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.message).toMatch(/exists on host box1 but the spec pins it to box2.*flakevirt down a/);
  });
});

describe('memoryAccount: what a host without a declared memory has for the fleet', () => {
  it('counts only running domains that are not the spec\'s guests (48 shut-off domains cost nothing)', () => {
    const shutOff = Array.from({ length: 48 }, (_, i) => ({ name: `old${i}`, running: false, memoryBytes: 4 * GiB }));
    const doms = [...shutOff, { name: 'other', running: true, memoryBytes: 2 * GiB }, { name: 'mine', running: true, memoryBytes: 4 * GiB }];
    const { left, source } = memoryAccount(16 * GiB, doms, new Set(['mine']));
    expect(left).toBe(14 * GiB);
    expect(source).toEqual({ from: 'host', nodeBytes: 16 * GiB, othersRunning: 1, othersBytes: 2 * GiB });
    expect(ok(place({ guests: [g('mine', 4), g('new', 0.25)], hosts: [{ name: 'local', memoryBytes: left }], existing: none, recorded: none })).hostOf.get('new')).toBe('local');
  });
});
