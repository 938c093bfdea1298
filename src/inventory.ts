// The fleet as an Ansible inventory: hosts with their leased IPs, groups from the spec. Pure.
import type { Fleet, Guest, Host } from './model.js';
import { diskRecords } from './disks/records.js';
import { kindOf } from './host-kinds/kind.js';
import { ansibleJumpArgs } from './render/jump.js';
import { commonSshArgs, guestConnection } from './render/connection.js';
import { bootKindOf } from './boot-kinds/kind.js';
import type { HealthState } from './health/reports.js';

export interface InventoryHost {
  name: string;
  ip: string;
  guest: Guest;
  /** The libvirt host it runs on (default: the fleet's first). */
  host?: Host;
  /** Its kernel's health in this boot (flakevirt_kernel; the report's text stays out: it is the guest's, and Ansible would template it). */
  kernel?: HealthState;
}

/** What every connection to a guest takes (render/connection.ts, which ssh and ssh-config use too). */
const GUEST_SSH_ARGS = commonSshArgs();

export interface Inventory {
  /** group → hosts; every group is also a child of `all`. */
  groups: Record<string, string[]>;
  hostvars: Record<string, Record<string, string>>;
  /** Structured per-host variables (flakevirt_disks): in the YAML and JSON inventories only. */
  structured: Record<string, Record<string, unknown>>;
  /** Variables every host shares (ssh options, user, key). */
  allVars: Record<string, string>;
  /** Per-group variables: the ssh jump of each remote libvirt host's group (host_NAME). */
  groupVars: Record<string, Record<string, string>>;
}

/** An Ansible group name for a profile or test suite ("build-tools" → "build_tools"). */
export function groupName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

export function buildInventory(fleet: Fleet, hosts: InventoryHost[]): Inventory {
  const groups: Record<string, string[]> = {};
  const add = (g: string, h: string) => {
    const list = (groups[groupName(g)] ??= []);
    if (!list.includes(h)) list.push(h);
  };
  const hostvars: Record<string, Record<string, string>> = {};
  const structured: Record<string, Record<string, unknown>> = {};
  const groupVars: Record<string, Record<string, string>> = {};
  for (const h of [...hosts].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const on = h.host ?? fleet.hosts[0]!;
    structured[h.name] = { flakevirt_disks: diskRecords(h.guest, kindOf(on).paths(on, h.guest.name)) };
    for (const g of [...h.guest.groups, ...h.guest.profiles, ...h.guest.testSuites]) add(g, h.name);
    // One group per libvirt host (to target a host's guests); it carries the ssh jump when needed.
    if (fleet.hosts.length > 1 || on.jump) {
      const group = groupName(`host_${on.name}`);
      add(group, h.name);
      if (on.jump) groupVars[group] = { ansible_ssh_common_args: `${GUEST_SSH_ARGS} ${ansibleJumpArgs(on.jump)}` };
    }
    hostvars[h.name] = {
      ansible_host: h.ip,
      ...bootKindOf(h.guest.boot).inventoryVars,
      ...(h.kernel && { flakevirt_kernel: h.kernel }),
    };
  }
  const { key } = guestConnection(fleet, '');
  const allVars: Record<string, string> = {
    ansible_user: fleet.user,
    ansible_ssh_common_args: GUEST_SSH_ARGS,
    ...(key && { ansible_ssh_private_key_file: key }),
  };
  return { groups: Object.fromEntries(Object.entries(groups).sort(([a], [b]) => (a < b ? -1 : 1))), hostvars, structured, allVars, groupVars };
}

/**
 * Every variable a host ends up with, as Ansible's precedence gives them to it from the INI
 * inventory: all's, then each of its groups' (a remote host's group carries its ssh jump), then its own.
 * The JSON and YAML inventories carry these per host, so no group variable can be outranked by a
 * host variable (Ansible ranks host variables above group variables: a per-group jump next to a
 * per-host default would be ignored, and Ansible would reach the guest's address directly).
 */
export function effectiveHostVars(inv: Inventory, host: string): Record<string, unknown> {
  const fromGroups = Object.entries(inv.groups).filter(([, hs]) => hs.includes(host)).map(([g]) => inv.groupVars[g] ?? {});
  return Object.assign({}, inv.allVars, ...fromGroups, inv.hostvars[host], inv.structured[host]);
}

/** Ansible's dynamic-inventory JSON (`--list`), with _meta.hostvars so Ansible never calls --host. */
export function inventoryJson(inv: Inventory): Record<string, unknown> {
  const hosts = Object.keys(inv.hostvars);
  return {
    _meta: { hostvars: Object.fromEntries(hosts.map((h) => [h, effectiveHostVars(inv, h)])) },
    all: { hosts, children: Object.keys(inv.groups), vars: {} },
    ...Object.fromEntries(Object.entries(inv.groups).map(([g, hs]) => [g, { hosts: hs }])),
  };
}

/** One value on an INI host line: only simple tokens are allowed there (the rest goes to [all:vars]). */
export function iniHostValue(v: string): string {
  if (!/^[A-Za-z0-9_.:/@+-]+$/.test(v)) throw new Error(`internal: "${v}" is not a plain INI inventory token`);
  return v;
}

/** The static INI inventory. [all:vars] values are taken verbatim to the end of the line. */
export function inventoryIni(inv: Inventory): string {
  const lines = [
    '# Generated by flakevirt inventory; regenerate rather than edit.',
    '# Per-host disk details (flakevirt_disks) are in the YAML and dynamic inventories (--format yaml, --list).',
    '[all]',
  ];
  for (const [h, vars] of Object.entries(inv.hostvars)) {
    lines.push([h, ...Object.entries(vars).map(([k, v]) => `${k}=${iniHostValue(v)}`)].join(' '));
  }
  lines.push('', '[all:vars]', ...Object.entries(inv.allVars).map(([k, v]) => `${k}=${v.replace(/[\r\n]/g, ' ')}`));
  for (const [g, hs] of Object.entries(inv.groups)) {
    lines.push('', `[${g}]`, ...hs);
    const vars = inv.groupVars[g];
    if (vars) lines.push('', `[${g}:vars]`, ...Object.entries(vars).map(([k, v]) => `${k}=${v.replace(/[\r\n]/g, ' ')}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The static YAML inventory structure (render with a YAML library); every variable is per host. */
export function inventoryYamlTree(inv: Inventory): Record<string, unknown> {
  return {
    all: {
      hosts: Object.fromEntries(Object.keys(inv.hostvars).map((h) => [h, effectiveHostVars(inv, h)])),
      children: Object.fromEntries(Object.entries(inv.groups).map(([g, hs]) => [g, { hosts: Object.fromEntries(hs.map((h) => [h, null])) }])),
    },
  };
}
