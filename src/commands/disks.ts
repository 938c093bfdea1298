// flakevirt disks [GUEST...]: every extra disk — guest device, stable by-id path, bus, serial,
// namespace, host file, format and declared geometry. Read from the spec; needs no libvirt.
import { diskRecords } from '../disks/records.js';
import { formatSize } from '../spec/units.js';
import { loadFleet, pickGuests, print, printJson, type GlobalOptions } from './context.js';
import { readRecord } from '../adapters/placement-record.js';
import { homeOf } from '../placement.js';
import type { Guest } from '../model.js';
import type { GuestPaths } from '../render/paths.js';
import { kindOf } from '../host-kinds/kind.js';

/** Paths of a guest flakevirt has not placed yet: no host file to name. */
const UNPLACED: GuestPaths = { dir: '', manifest: '', root: '', console: '', disk: () => '(not placed yet: see flakevirt plan)' };

export interface DisksOptions extends GlobalOptions {
  guests?: string[];
}

export async function disksCommand(opts: DisksOptions): Promise<void> {
  const { fleet } = await loadFleet(opts, { allowExample: 'present' });
  const record = (await readRecord(fleet.pool)).guests;
  const hostOf = (g: Guest) => fleet.hosts.find((h) => h.name === homeOf(g, record, fleet.hosts)) ?? (fleet.hosts.length === 1 ? fleet.hosts[0] : undefined);
  const guests = pickGuests(fleet.guests, opts.guests).filter((g) => !opts.host?.length || opts.host.includes(hostOf(g)?.name ?? ''));
  const rows = guests.map((g) => {
    const host = hostOf(g);
    return { guest: g.name, host: host?.name ?? null, disks: diskRecords(g, host ? kindOf(host).paths(host, g.name) : UNPLACED) };
  });
  if (opts.json) return printJson(rows);
  for (const { guest, host, disks } of rows) {
    print(`${guest}${fleet.hosts.length > 1 ? ` (on ${host ?? 'a host not chosen yet'})` : ''}:${disks.length ? '' : ' (no extra disks)'}`);
    for (const d of disks) {
      const geo = [`${formatSize(d.sizeBytes)} ${d.format}`, `lbs ${d.logicalBlockSize}`, `pbs ${d.physicalBlockSize}`];
      if (d.mdts !== null) geo.push(`mdts ${d.mdts}`);
      if (d.atomic) geo.push(`atomic ${JSON.stringify(d.atomic)}`);
      if (d.zoned) geo.push(`zoned ${formatSize(d.zoned.zoneSizeBytes)} zones`);
      print(`  ${d.device.padEnd(13)} ${d.bus.padEnd(6)} ${d.nsid !== null ? `ns ${d.nsid} of ${d.controller}` : 'virtio-blk'}  in the guest: ${d.guestPath} (also ${d.byId})`);
      print(`  ${''.padEnd(13)} ${geo.join(', ')}${d.mountPoint ? ` → ${d.mountPoint} (${d.fsType})` : ''}; host ${d.hostFile}`);
    }
  }
}
