// Inventory and ssh-config rendering from the fleet and the leased IPs.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fleetFrom } from '../helpers/fixtures.js';
import { buildInventory, inventoryIni, inventoryJson, inventoryYamlTree, iniHostValue } from '../../src/inventory.js';
import { renderSshConfig, sshConfigValue } from '../../src/render/ssh-config.js';

const fleet = fleetFrom(`user: kdevops
sshKeyFiles: [/home/dev/.ssh/id_ed25519.pub]
guests:
  xfs-4k: { groups: [fstests, xfs], testSuites: [fstests], image: /i.qcow2 }
  ext4: { profiles: [devel, build-tools], testSuites: [blktests] }
`);
const hosts = fleet.guests.map((guest, i) => ({ name: guest.name, ip: `192.168.122.${10 + i}`, guest }));
const inv = buildInventory(fleet, hosts);

describe('inventory', () => {
  it('groups hosts by their groups, profiles and test suites', () => {
    expect(inv.groups).toEqual({ blktests: ['ext4'], build_tools: ['ext4'], devel: ['ext4', 'xfs-4k'], fstests: ['xfs-4k'], xfs: ['xfs-4k'] });
  });
  it('gives each host its leased IP, the user, the private key and host-key handling for reimaged guests', () => {
    const j = inventoryJson(inv) as { _meta: { hostvars: Record<string, Record<string, string>> } };
    expect(j._meta.hostvars['xfs-4k']).toEqual({
      ansible_host: '192.168.122.11', ansible_user: 'kdevops', ansible_ssh_private_key_file: '/home/dev/.ssh/id_ed25519',
      ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
      flakevirt_disks: [],
    });
    // NixOS keeps python in the system profile.
    expect(j._meta.hostvars.ext4!.ansible_python_interpreter).toBe('/run/current-system/sw/bin/python3');
  });
  it('renders INI with shared vars in [all:vars] and YAML that parses back', () => {
    const ini = inventoryIni(inv);
    expect(ini).toContain('[all]\next4 ansible_host=192.168.122.10 ansible_python_interpreter=/run/current-system/sw/bin/python3\nxfs-4k ansible_host=192.168.122.11\n');
    expect(ini).toContain('[all:vars]\nansible_user=kdevops\n');
    expect(ini).toContain('[fstests]\nxfs-4k\n');
    const y = parse(JSON.stringify(inventoryYamlTree(inv))) as { all: { hosts: Record<string, unknown>; children: Record<string, { hosts: Record<string, null> }> } };
    expect(Object.keys(y.all.children.devel!.hosts)).toEqual(['ext4', 'xfs-4k']);
  });
  it('gives a guest on a jumped host its ProxyCommand in its own host variables (JSON, YAML), where no default outranks it', () => {
    const multi = fleetFrom(`user: kdevops
hosts:
  local: { connect: "qemu:///system" }
  box1: { connect: "qemu+ssh://root@10.231.41.2/system" }
guests:
  near: { image: /i.qcow2, host: local }
  far: { image: /i.qcow2, host: box1 }
`);
    const on = (n: string) => multi.hosts.find((h) => h.name === n)!;
    const same = multi.guests.map((guest) => ({ name: guest.name, ip: '192.168.122.77', guest, host: on(guest.host ?? (guest.name === 'far' ? 'box1' : 'local')) }));
    const i = buildInventory(multi, same);
    const j = inventoryJson(i) as { _meta: { hostvars: Record<string, Record<string, string>> } } & Record<string, { vars?: unknown }>;
    expect(j._meta.hostvars.far!.ansible_ssh_common_args).toMatch(/ProxyCommand=.*ssh.*-W.*root@10\.231\.41\.2/);
    expect(j._meta.hostvars.near!.ansible_ssh_common_args).not.toMatch(/ProxyCommand/);
    // Nothing at group level that a host variable could outrank or contradict.
    expect(Object.values(j).filter((v) => v && typeof v === 'object' && 'vars' in v && v.vars && Object.keys(v.vars as object).length)).toEqual([]);
    const y = inventoryYamlTree(i) as { all: { hosts: Record<string, Record<string, string>>; vars?: unknown; children: Record<string, { vars?: unknown }> } };
    expect(y.all.hosts.far!.ansible_ssh_common_args).toBe(j._meta.hostvars.far!.ansible_ssh_common_args);
    expect(y.all.vars).toBeUndefined();
    expect(Object.values(y.all.children).every((c) => c.vars === undefined)).toBe(true);
    // INI keeps the jump in the host's group, which outranks [all:vars] there.
    expect(inventoryIni(i)).toMatch(/\[host_box1:vars\]\nansible_ssh_common_args=.*ProxyCommand/);
  });
  it('refuses anything but plain tokens on INI host lines', () => {
    expect(() => iniHostValue('a b')).toThrow();
    expect(() => iniHostValue('x=1')).toThrow();
    expect(iniHostValue('192.168.122.5')).toBe('192.168.122.5');
  });
});

describe('ssh-config', () => {
  it('renders a Host block per guest without pinning host keys', () => {
    const text = renderSshConfig(fleet, hosts, 'Include it.');
    expect(text).toContain('Host xfs-4k\n  HostName 192.168.122.11\n  User kdevops\n  IdentityFile /home/dev/.ssh/id_ed25519\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n');
  });
  it('quotes values with spaces and refuses quotes and newlines', () => {
    expect(sshConfigValue('/home/a b/key')).toBe('"/home/a b/key"');
    expect(() => sshConfigValue('a"b')).toThrow();
    expect(() => sshConfigValue('a\nHost evil')).toThrow();
  });
});
