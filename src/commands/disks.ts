// flakevirt disks [GUEST...]: every extra disk — guest device, stable by-id path, bus, serial,
// namespace, host file, format and declared geometry. Read from the spec; needs no libvirt.
import { diskRecords } from '../disks.js';
import { formatSize } from '../spec/units.js';
import { loadFleet, pickGuests, print, printJson, type GlobalOptions } from './context.js';

export interface DisksOptions extends GlobalOptions {
  guests?: string[];
}

export async function disksCommand(opts: DisksOptions): Promise<void> {
  const { fleet } = await loadFleet(opts, { allowExample: true });
  const guests = pickGuests(fleet.guests, opts.guests);
  const rows = guests.map((g) => ({ guest: g.name, disks: diskRecords(fleet, g) }));
  if (opts.json) return printJson(rows);
  for (const { guest, disks } of rows) {
    print(`${guest}:${disks.length ? '' : ' (no extra disks)'}`);
    for (const d of disks) {
      const geo = [`${formatSize(d.sizeBytes)} ${d.format}`, `lbs ${d.logicalBlockSize}`, `pbs ${d.physicalBlockSize}`];
      if (d.mdts !== null) geo.push(`mdts ${d.mdts}`);
      if (d.atomic) geo.push(`atomic ${JSON.stringify(d.atomic)}`);
      if (d.zoned) geo.push(`zoned ${formatSize(d.zoned.zoneSizeBytes)} zones`);
      print(`  ${d.device.padEnd(13)} ${d.bus.padEnd(6)} ${d.nsid !== null ? `ns ${d.nsid} of ${d.controller}` : 'virtio-blk'}  ${d.byId}`);
      print(`  ${''.padEnd(13)} ${geo.join(', ')}${d.mountPoint ? ` → ${d.mountPoint} (${d.fsType})` : ''}; host ${d.hostFile}`);
    }
  }
}
