// The disk buses (src/disks/buses/): one object per bus behind one interface, registered in BUSES.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSES, busOf, busOnlyFields } from '../../src/disks/bus.js';
import { fleetFromFixture } from '../helpers/fixtures.js';
import { guest } from '../helpers/render.js';

const fleet = fleetFromFixture('storage.yaml');

describe('disk buses', () => {
  it('every disk of the model has its bus, which names itself as the model does', () => {
    for (const g of fleet.guests) for (const d of g.disks) expect(busOf(d).name).toBe(d.bus);
    expect(Object.keys(BUSES).sort()).toEqual(['nvme', 'virtio']);
  });
  it('a bus-only field belongs to exactly one bus', () => {
    const fields = busOnlyFields().map((f) => f.field);
    expect(new Set(fields).size).toBe(fields.length);
    expect(busOnlyFields().find((f) => f.field === 'zoned')?.bus.name).toBe('nvme');
    expect(busOnlyFields().find((f) => f.field === 'queues')?.bus.name).toBe('virtio');
  });
  it('each bus gives the udev rule, by-id path and record of its own disks', () => {
    const disks = guest(fleet, 'xfs-4k').disks;
    const nvme = disks.find((d) => d.bus === 'nvme')!;
    const vd = disks.find((d) => d.bus === 'virtio')!;
    expect(busOf(nvme).byId(nvme)).toBe(nvme.byId);
    expect(busOf(vd).byId(vd)).toBe(vd.byId);
    expect(busOf(nvme).udevRule(nvme)).toContain(`ATTR{nsid}=="${nvme.nsid}"`);
    expect(busOf(vd).record(vd)).toEqual({ nsid: null, controller: null, mdts: null, atomic: null, zoned: null });
    expect(busOf(nvme).fileInQemuArguments({ domainType: 'qemu', nvme: 'commandline' })).toBe(true);
    expect(busOf(nvme).fileInQemuArguments({ domainType: 'qemu', nvme: 'native' })).toBe(false);
  });
});

describe('one home per bus', () => {
  // Code that singles out one bus by name: a comparison with its name, its model type, or its module.
  const NAMES_A_BUS = /[!=]==\s*'(nvme|virtio)'|'(nvme|virtio)'\s*[!=]==|case '(nvme|virtio)'|BUSES\.(nvme|virtio)\b|\b(NvmeDisk|VirtioDisk)\b|buses\/(nvme|virtio)\.js/;
  it('catches the branches it replaced', () => {
    expect(NAMES_A_BUS.test("    if (d.ref.bus !== 'nvme') continue;")).toBe(true);
    expect(NAMES_A_BUS.test("  const nvme = guest.disks.filter((d): d is NvmeDisk => d.bus === 'nvme');")).toBe(true);
    expect(NAMES_A_BUS.test("  for (const bus of [BUSES.virtio, BUSES.nvme] as DiskBus[]) x();")).toBe(true);
  });
  it('finds none outside src/disks/ (and the Disk union in model.ts)', () => {
    const src = join(__dirname, '../../src');
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.startsWith('disks/') && f !== 'model.ts');
    const hits = files.flatMap((f) => readFileSync(join(src, f), 'utf8').split('\n').map((l, i) => `${f}:${i + 1}: ${l.trim()}`).filter((l) => NAMES_A_BUS.test(l)));
    expect(hits).toEqual([]);
  });
});
