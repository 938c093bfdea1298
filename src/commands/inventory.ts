// flakevirt inventory: the running guests as an Ansible inventory (static INI/YAML/JSON, or the
// dynamic-inventory protocol with --list / --host, or a wrapper script for `ansible -i`).
import { dirname, resolve } from 'node:path';
import { checkOwnDir, writeOwnFile } from '../adapters/private-dir.js';
import { NoSpecError } from '../errors.js';
import type { Fleet } from '../model.js';
import { buildInventory, inventoryIni, inventoryJson, inventoryYamlTree, type InventoryHost } from '../inventory.js';
import { packagePath } from '../package-root.js';
import { shellWord } from '../escape/shell.js';
import { listFleet, type GuestRow } from './list.js';
import { print, printJson, type GlobalOptions } from './context.js';

export interface InventoryOptions extends Omit<GlobalOptions, 'host'> {
  format?: 'ini' | 'yaml' | 'json';
  list?: boolean;
  /** Ansible's dynamic-inventory --host GUEST (not the libvirt host; that is --on here). */
  host?: string;
  on?: string[];
  script?: string;
}

/**
 * The spec's guests that hold a lease now; the others are named on stderr, never listed without an
 * IP. `quiet` (the dynamic inventory, whose stderr Ansible shows as an error on every call) names only
 * a running guest without a lease: a shut-off or undefined guest is a fact `list` shows.
 */
export async function leasedHosts(opts: GlobalOptions, { quiet = false } = {}): Promise<{ fleet: Fleet; hosts: InventoryHost[]; specPath: string }> {
  const { fleet, rows } = await listFleet(opts, { allowExample: 'present' });
  if (!fleet) throw new NoSpecError();
  const byName = new Map<string, GuestRow>(rows.map((r) => [r.name, r]));
  const hosts: InventoryHost[] = [];
  for (const guest of fleet.guests) {
    const row = byName.get(guest.name);
    if (opts.host?.length && !row) continue; // on a host not asked for
    const host = fleet.hosts.find((h) => h.name === row?.host);
    if (row?.ip) hosts.push({ name: guest.name, ip: row.ip, guest, ...(host && { host }), ...(row.kernel && { kernel: row.kernel.state }) });
    else if (!quiet || row?.state === 'running') process.stderr.write(`warning: ${guest.name} is left out: ${!row || row.state === 'not defined' ? 'not defined (run flakevirt up)' : row.state !== 'running' ? `${row.state}` : 'running but holds no DHCP lease yet'}\n`);
  }
  return { fleet, hosts, specPath: fleet.specPath };
}

export async function inventoryCommand(opts: InventoryOptions): Promise<void> {
  if (opts.script) return writeScript(opts);
  const { fleet, hosts } = await leasedHosts({ ...opts, host: opts.on }, { quiet: opts.list === true || opts.host !== undefined });
  const inv = buildInventory(fleet, hosts);
  if (opts.host !== undefined) {
    const json = inventoryJson(inv) as { _meta: { hostvars: Record<string, unknown> } };
    return printJson(json._meta.hostvars[opts.host] ?? {});
  }
  if (opts.list || opts.json || opts.format === 'json') return printJson(inventoryJson(inv));
  // yaml only when YAML is asked for: `inventory --list` runs on every Ansible call.
  if (opts.format === 'yaml') return void process.stdout.write((await import('../render/yaml.js')).yamlText(inventoryYamlTree(inv)));
  process.stdout.write(inventoryIni(inv));
}

/** A tiny executable Ansible can take with `-i PATH`: it asks flakevirt, with the absolute spec path. */
async function writeScript(opts: InventoryOptions): Promise<void> {
  const { findSpec } = await import('../spec/find.js');
  const spec = findSpec(opts.spec);
  if (!spec) throw new NoSpecError();
  const q = shellWord;
  const connect = `${opts.connect ? ` --connect ${q(opts.connect)}` : ''}${(opts.on ?? []).map((h) => ` --on ${q(h)}`).join('')}`;
  const text = `#!/bin/sh\n# Ansible dynamic inventory for ${spec}, written by flakevirt inventory --script.\nexec ${q(process.execPath)} ${q(packagePath('dist', 'cli.js'))} --spec ${q(spec)} inventory${connect} "$@"\n`;
  const out = resolve(opts.script!);
  // An executable that root will run goes only into a directory nobody else can write.
  checkOwnDir(dirname(out));
  await writeOwnFile(out, text, 0o755);
  print(`wrote ${out}; use it with: ansible-inventory -i ${out} --list`);
}
