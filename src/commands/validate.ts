// flakevirt validate: checks the spec and says what it describes.
import { formatSize } from '../spec/units.js';
import { loadFleet, print, printJson, type GlobalOptions } from './context.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export async function validateCommand(opts: GlobalOptions): Promise<void> {
  const { fleet, warnings } = await loadFleet(opts);
  if (opts.json) return printJson({ ok: true, spec: fleet.specPath, guests: fleet.guests.map((g) => g.name), hosts: fleet.hosts.map((h) => ({ name: h.name, connect: h.connect })), warnings });
  print(`${fleet.specPath}: valid, ${fleet.guests.length} guest${fleet.guests.length === 1 ? '' : 's'} on ${fleet.hosts.length === 1 ? `${fleet.hosts[0]!.connect}` : `${fleet.hosts.length} hosts (${fleet.hosts.map((h) => h.name).join(', ')})`}`);
  for (const g of fleet.guests) {
    const disks = g.disks.map((d) => `${d.name} ${formatSize(d.sizeBytes)}${d.mountPoint ? ` → ${d.mountPoint}` : ''}`).join(', ');
    print(`  ${g.name}: ${g.host ? `on ${g.host}, ` : ''}${g.vcpus} vCPU, ${formatSize(g.memoryBytes)}, ${bootKindOf(g.boot).describe(g.boot)}${disks ? `; disks: ${disks}` : ''}`);
  }
}
