// render/connection.ts: the one connection `flakevirt ssh`, ssh-config and the inventory are built
// from, so the three agree on user, key, host-key policy and jump; and the argv `flakevirt ssh` hands
// ssh (adapters/ssh.ts, with ssh replaced on PATH by a recorder).
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetFrom } from '../helpers/fixtures.js';
import { guestConnection, sshArgv } from '../../src/render/connection.js';
import { buildInventory, effectiveHostVars } from '../../src/inventory.js';
import { renderSshConfig } from '../../src/render/ssh-config.js';
import { afterDoubleDash } from '../../src/commands/registry.js';

const fleet = fleetFrom(`user: kdevops
sshKeyFiles: [/home/dev/.ssh/id_ed25519.pub]
hosts:
  local: { connect: "qemu:///system" }
  box1: { connect: "qemu+ssh://root@10.231.41.2:2222/system?keyfile=/root/.ssh/box1" }
guests:
  near: { image: /i.qcow2, host: local }
  far: { image: /i.qcow2, host: box1 }
`);
const on = (n: string) => fleet.hosts.find((h) => h.name === n)!;

describe('one connection for ssh, ssh-config and the inventory', () => {
  it('ssh gets the user, key, host-key policy and, for a remote host, the ProxyCommand the inventory gives Ansible', () => {
    const argv = sshArgv(guestConnection(fleet, '192.168.122.9', on('box1')), ['uname', '-r']);
    const vars = effectiveHostVars(buildInventory(fleet, [{ name: 'far', ip: '192.168.122.9', guest: fleet.guests[1]!, host: on('box1') }]), 'far') as Record<string, string>;
    expect(argv.at(-4)).toBe(`${vars.ansible_user}@${vars.ansible_host}`);
    expect(argv.slice(-3)).toEqual(['--', 'uname', '-r']);
    expect(argv).toEqual(expect.arrayContaining(['-i', vars.ansible_ssh_private_key_file!]));
    // Every -o of Ansible's common args is one of ssh's, ProxyCommand included, word for word.
    const ansibleOptions = [...vars.ansible_ssh_common_args!.matchAll(/-o (\w+)=("[^"]*"|\S+)/g)].map((m) => `${m[1]}=${m[2]!.replace(/^"|"$/g, '')}`);
    const sshOptions = argv.flatMap((a, i) => (argv[i - 1] === '-o' ? [a] : []));
    expect(ansibleOptions.length).toBe(4);
    for (const o of ansibleOptions) expect(sshOptions).toContain(o);
    expect(sshOptions.find((o) => o.startsWith('ProxyCommand='))).toMatch(/^ProxyCommand=ssh -W %h:%p -p 2222 -i \/root\/\.ssh\/box1 .*root@10\.231\.41\.2$/);
  });

  it('ssh-config writes the same user, key and options (and reaches the jump through its own block)', () => {
    const c = guestConnection(fleet, '192.168.122.9', on('box1'));
    const text = renderSshConfig(fleet, [{ name: 'far', ip: '192.168.122.9', host: on('box1') }], 'hint');
    expect(text).toContain(`  User ${c.user}\n  IdentityFile ${c.key}\n  IdentitiesOnly yes\n`);
    for (const [k, v] of c.options) expect(text).toContain(`  ${k} ${v}\n`);
    expect(text).toMatch(/ProxyJump flakevirt-jump-box1\n[\s\S]*Host flakevirt-jump-box1\n  HostName 10\.231\.41\.2\n  User root\n  Port 2222\n  IdentityFile \/root\/\.ssh\/box1/);
  });

  it('a local guest goes straight there; no command means a shell (with a terminal when there is one)', () => {
    const argv = sshArgv(guestConnection(fleet, '192.168.122.8', on('local')), [], { tty: true });
    expect(argv.some((a) => a.startsWith('ProxyCommand='))).toBe(false);
    expect(argv.slice(-2)).toEqual(['-t', 'kdevops@192.168.122.8']);
  });

  it('takes the guest command from after the first --, whatever it looks like', () => {
    expect(afterDoubleDash(['node', 'cli.js', 'ssh', 'g', '--', 'ls', '--', '-la'])).toEqual(['ls', '--', '-la']);
    expect(afterDoubleDash(['node', 'cli.js', 'ssh', 'g'])).toEqual([]);
  });
});

describe('runSsh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flakevirt-ssh-'));
  const savedPath = process.env.PATH;
  afterAll(() => { process.env.PATH = savedPath; rmSync(dir, { recursive: true, force: true }); });

  it('hands ssh exactly the argv and passes its exit status through', async () => {
    writeFileSync(join(dir, 'ssh'), `#!/bin/sh\nfor a; do printf '%s\\n' "$a"; done > '${join(dir, 'argv')}'\nexit 7\n`);
    chmodSync(join(dir, 'ssh'), 0o755);
    process.env.PATH = `${dir}:${savedPath}`;
    const { runSsh } = await import('../../src/adapters/ssh.js');
    const argv = sshArgv(guestConnection(fleet, '192.168.122.8', on('local')), ['sh', '-c', 'exit 7; $(reboot)']);
    expect(await runSsh(argv)).toBe(7);
    expect(readFileSync(join(dir, 'argv'), 'utf8').split('\n').slice(0, -1)).toEqual(argv);
  });
});
