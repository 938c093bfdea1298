// Inventory and ssh-config with the real clients: ansible-inventory reads flakevirt's static and
// dynamic inventories, ansible -m raw and ssh reach real guests (dropbear in the tiny guest).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';
import { parseStatusFile } from '../../src/leases.js';
import { macFor } from '../../src/render/identity.js';

const skip = e2eSkipReason() ?? (hasCommand('ansible-inventory') && hasCommand('ssh') ? undefined : 'ansible-core and openssh-client are needed');
const host = skip ? undefined : new TestHost('inv');
let spec = '';

/** What ansible-inventory --list makes of an inventory source, run inside the test host. */
function ansibleList(source: string): { hostvars: Record<string, Record<string, string>>; groups: Record<string, string[]> } {
  const r = host!.exec(['ansible-inventory', '-i', source, '--list']);
  expect(r.status, r.stderr).toBe(0);
  const j = JSON.parse(r.stdout) as Record<string, { hosts?: string[] }> & { _meta: { hostvars: Record<string, Record<string, string>> } };
  const groups = Object.fromEntries(Object.entries(j).filter(([k, v]) => k !== '_meta' && k !== 'all' && v.hosts).map(([k, v]) => [k, v.hosts!]));
  return { hostvars: j._meta.hostvars, groups };
}

function leasedIp(guest: string): string {
  return parseStatusFile(readFileSync(host!.libvirtState('dnsmasq', 'virbr0.status'), 'utf8')).find((l) => l.mac === macFor(guest))!.ip;
}

describe.skipIf(skip)('Ansible inventory and ssh config against real guests', () => {
  beforeAll(() => {
    host!.up();
    const key = join(host!.scratch, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flakevirt-test', '-f', key]);
    const g = tinyGuest();
    const boot = `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
    spec = join(host!.scratch, 'flakevirt.yaml');
    writeFileSync(spec, `pool: ${join(host!.scratch, 'pool')}
accel: tcg
user: kdevops
sshKeyFiles: [${key}.pub]
defaults: { memory: 384MiB, vcpus: 1, diskSize: 1GiB }
guests:
  inv-xfs: { ${boot}, groups: [fstests, xfs], testSuites: [fstests] }
  inv-blk: { ${boot}, profiles: [devel, build-tools], testSuites: [blktests] }
`);
  });
  afterAll(() => host?.down());

  it('up --wait ssh returns once both guests\' ssh servers answer', () => {
    const r = host!.flakevirt('up', '-f', spec, '--wait', 'ssh', '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[inv-xfs [^\]]*\] ssh answers: SSH-2\.0-dropbear/);
    expect(r.stderr).toMatch(/\[inv-blk [^\]]*\] ssh answers: SSH-2\.0-dropbear/);
  });

  it('ansible-inventory sees the same hosts, groups and leased IPs in the INI, YAML and dynamic inventories', () => {
    const ini = join(host!.scratch, 'hosts.ini');
    const yml = join(host!.scratch, 'hosts.yml');
    writeFileSync(ini, host!.flakevirt('inventory', '-f', spec).stdout);
    writeFileSync(yml, host!.flakevirt('inventory', '-f', spec, '--format', 'yaml').stdout);
    const script = join(host!.scratch, 'inventory.sh');
    expect(host!.flakevirt('inventory', '-f', spec, '--script', script).status).toBe(0);
    const expected = { 'inv-xfs': leasedIp('inv-xfs'), 'inv-blk': leasedIp('inv-blk') };
    for (const source of [ini, yml, script]) {
      const { hostvars, groups } = ansibleList(source);
      expect(Object.fromEntries(Object.entries(hostvars).map(([h, v]) => [h, v.ansible_host])), source).toEqual(expected);
      expect(hostvars['inv-xfs']!.ansible_user).toBe('kdevops');
      expect(hostvars['inv-xfs']!.ansible_ssh_private_key_file).toBe(join(host!.scratch, 'id_ed25519'));
      expect(groups.fstests).toEqual(['inv-xfs']);
      expect(groups.xfs).toEqual(['inv-xfs']);
      expect(groups.blktests).toEqual(['inv-blk']);
      expect(groups.build_tools).toEqual(['inv-blk']);
      expect(groups.devel!.sort()).toEqual(['inv-blk', 'inv-xfs']);
    }
    const one = JSON.parse(host!.flakevirt('inventory', '-f', spec, '--host', 'inv-blk').stdout);
    expect(one.ansible_host).toBe(expected['inv-blk']);
  });

  it('ansible -m raw reaches every guest through the dynamic inventory', () => {
    const r = host!.exec(['ansible', '-i', join(host!.scratch, 'inventory.sh'), 'all', '-m', 'raw', '-a', 'id -un; uname -r']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // raw runs through a pty: lines end in \r\n.
    expect(r.stdout.replace(/\r/g, '').match(/^inv-(xfs|blk) \| CHANGED \| rc=0 >>\nkdevops\n6\.\d+/gm)).toHaveLength(2);
  });

  it('ssh-config --write keeps a file of its own that ssh can use', () => {
    const conf = join(host!.scratch, 'flakevirt.conf');
    const w = host!.flakevirt('ssh-config', '-f', spec, '--write', '--output', conf);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout).toMatch(/Include .*flakevirt\.conf/);
    const r = host!.exec(['ssh', '-F', conf, 'inv-xfs', 'id -un']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('kdevops');
  });

  it('flakevirt ssh runs a command there with its output and exit status, over the connection ssh-config writes', () => {
    const id = host!.flakevirt('ssh', '-f', spec, 'inv-xfs', '--', 'id', '-un');
    expect(id.status, id.stderr).toBe(0);
    expect(id.stdout.trim()).toBe('kdevops');
    const failing = host!.flakevirt('ssh', '-f', spec, 'inv-xfs', '--', 'echo out; echo err >&2; exit 3');
    expect(failing.status).toBe(3);
    expect(failing.stdout).toBe('out\n');
    expect(failing.stderr).toBe('err\n');
  });

  it('leaves out a guest without a lease, never with an empty or stale IP; the dynamic inventory says nothing of a shut-off guest', () => {
    host!.virsh('destroy', 'inv-blk');
    const r = host!.flakevirt('inventory', '-f', spec, '--list');
    expect(r.status).toBe(0);
    // Ansible shows a dynamic inventory's stderr as an error block on every call: a fact is not one.
    expect(r.stderr).toBe('');
    const ini = host!.flakevirt('inventory', '-f', spec);
    expect(ini.stderr).toMatch(/warning: inv-blk is left out: shut off/);
    const ssh = host!.flakevirt('ssh', '-f', spec, 'inv-blk', '--', 'true');
    expect(ssh.status).toBe(1);
    expect(ssh.stderr).toMatch(/inv-blk is shut off: nothing to connect to; start it with "flakevirt up inv-blk"/);
    expect(Object.keys(JSON.parse(r.stdout)._meta.hostvars)).toEqual(['inv-xfs']);
    const ips = host!.flakevirt('ips', '-f', spec);
    expect(ips.stdout.trim()).toBe(`inv-xfs ${leasedIp('inv-xfs')}`);
    expect(host!.flakevirt('down', '--all', '-f', spec).status).toBe(0);
  });
});
