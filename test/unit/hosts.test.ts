// Hosts in the spec, URIs → jumps, remote volume names and XML, ssh jumps in inventory and ssh_config.
import { describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { fleetFrom } from '../helpers/fixtures.js';
import { isLocalUri, jumpFromUri, muxUri, parseJump } from '../../src/hosts.js';
import { blobName, BLOB, completeMarker, isGuestVolume, renderVolume, volumePaths } from '../../src/render/volume.js';
import { ansibleJumpArgs, proxyCommand } from '../../src/render/jump.js';
import { shellWord } from '../../src/escape/shell.js';
import { buildInventory, inventoryIni, inventoryJson } from '../../src/inventory.js';
import { renderSshConfig } from '../../src/render/ssh-config.js';
import { kindOf } from '../../src/host-kinds/kind.js';
import type { Host } from '../../src/model.js';

/** Where a guest's files are on a host: what its kind says (src/host-kinds/). */
const pathsOn = (h: Host, guest: string) => kindOf(h).paths(h, guest);

const fleet = fleetFrom(`user: kdevops
sshKeyFiles: [/home/dev/.ssh/id_ed25519.pub]
hosts:
  local: { connect: "qemu:///system" }
  box1: { connect: "qemu+ssh://root@box1.lab:2222/system?keyfile=/root/.ssh/lab&no_verify=1", memory: 64GiB, vcpus: 32 }
  box2: { connect: "qemu+ssh://ops@box2/system", jump: "gw@bastion:22", pool: /srv/flakevirt }
  box3: { connect: "qemu+tls://box3/system", jump: false }
guests:
  a: { host: box1, image: /i.qcow2, disks: { /dev/vdb: { size: 1GiB } } }
  b: { image: /i.qcow2 }
`);

describe('hosts in the spec', () => {
  it('are normalised with locality, pool, capacity and jump', () => {
    const [local, box1, box2, box3] = fleet.hosts;
    expect(local).toEqual({ name: 'local', connect: 'qemu:///system', local: true, pool: '/var/lib/libvirt/images/flakevirt' });
    expect(box1).toMatchObject({ local: false, pool: '/var/lib/libvirt/flakevirt', memoryBytes: 64 * 1024 ** 3, vcpus: 32, jump: { host: 'box1.lab', user: 'root', port: 2222, keyFile: '/root/.ssh/lab', noVerify: true } });
    expect(box2).toMatchObject({ pool: '/srv/flakevirt', jump: { host: 'bastion', user: 'gw', port: 22 } });
    expect(box3!.jump).toBeUndefined();
    expect(fleet.guests.find((g) => g.name === 'a')!.host).toBe('box1');
  });
  it('default to one host "local" at connect:', () => {
    expect(fleetFrom('guests:\n  a: { image: /i.qcow2 }\n').hosts.map((h) => [h.name, h.connect])).toEqual([['local', 'qemu:///system']]);
  });
});

describe('libvirt URIs', () => {
  it('tell local from remote', () => {
    expect(['qemu:///system', 'qemu:///session', 'qemu+unix:///system', 'test:///default'].map(isLocalUri)).toEqual([true, true, true, false]);
    expect(isLocalUri('qemu+ssh://root@h/system')).toBe(false);
  });
  it('give the jump: user, address, port, keyfile, no_verify', () => {
    expect(jumpFromUri('qemu+ssh://root@10.231.1.2/system?keyfile=/k&no_verify=1')).toEqual({ host: '10.231.1.2', user: 'root', keyFile: '/k', noVerify: true });
    expect(jumpFromUri('qemu:///system')).toBeUndefined();
    expect(parseJump('[fe80::1]:2200', 'qemu+ssh://h/system?keyfile=/k')).toEqual({ host: 'fe80::1', port: 2200, keyFile: '/k' });
  });
  it('route qemu+ssh through the shared-connection ssh unless the user named a command', () => {
    expect(muxUri('qemu+ssh://root@h/system', '/opt/flake virt/ssh-mux.sh')).toBe('qemu+ssh://root@h/system?command=%2Fopt%2Fflake%20virt%2Fssh-mux.sh');
    expect(muxUri('qemu+ssh://root@h/system?keyfile=/k', '/m')).toBe('qemu+ssh://root@h/system?keyfile=/k&command=%2Fm');
    expect(muxUri('qemu+ssh://root@h/system?command=/usr/bin/ssh', '/m')).toBe('qemu+ssh://root@h/system?command=/usr/bin/ssh');
    expect(muxUri('qemu:///system', '/m')).toBe('qemu:///system');
    expect(muxUri('qemu+ssh://h/system', undefined)).toBe('qemu+ssh://h/system');
  });
});

describe('remote volumes', () => {
  it('are named by guest and disk, flat in the pool', () => {
    const p = volumePaths('/var/lib/libvirt/flakevirt/', 'xfs-4k');
    expect([p.root, p.console, p.disk({ name: 'nvme0n1', format: 'raw' })]).toEqual([
      '/var/lib/libvirt/flakevirt/xfs-4k.root.qcow2', '/var/lib/libvirt/flakevirt/xfs-4k.console.log', '/var/lib/libvirt/flakevirt/xfs-4k.nvme0n1.raw',
    ]);
    expect(pathsOn(fleet.hosts[1]!, 'a').root).toBe('/var/lib/libvirt/flakevirt/a.root.qcow2');
    expect(pathsOn(fleet.hosts[0]!, 'a').root).toBe('/var/lib/libvirt/images/flakevirt/a/root.qcow2');
  });
  it('belong to exactly one guest (guest names cannot hold a dot)', () => {
    expect(isGuestVolume('xfs', 'xfs.root.qcow2')).toBe(true);
    expect(isGuestVolume('xfs', 'xfs.vdb.raw')).toBe(true);
    expect(isGuestVolume('xfs', 'xfs-4k.root.qcow2')).toBe(false);
    expect(isGuestVolume('xfs', 'xfs.notes.txt')).toBe(false);
    expect(isGuestVolume('xfs', 'base-0123456789abcdef0123456789abcdef.qcow2')).toBe(false);
  });
  it('name shared images by content, with a completion marker', () => {
    const n = blobName('base', '0123456789abcdef0123456789abcdef', 'qcow2');
    expect(n).toBe('base-0123456789abcdef0123456789abcdef.qcow2');
    expect(BLOB.test(n) && !BLOB.test(completeMarker(n))).toBe(true);
  });
  it('render volume XML with every value escaped', () => {
    const xml = renderVolume({ name: `x"'<&>.raw`, capacityBytes: 1024, format: 'qcow2', mode: '0600', owner: { uid: 64055, gid: 64055 }, backing: { path: '/p/<b>&"base".qcow2', format: 'qcow2' } });
    const v = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false }).parse(xml).volume;
    expect(xml).toContain('<name>x&quot;&apos;&lt;&amp;&gt;.raw</name>');
    expect(xml).not.toMatch(/<b>/);
    expect(v.capacity).toMatchObject({ '@_unit': 'bytes', '#text': '1024' });
    expect(v.target.permissions).toEqual({ mode: '0600', owner: '64055', group: '64055' });
    expect(v.backingStore.format['@_type']).toBe('qcow2');
    const decoded = new XMLParser({ ignoreAttributes: false, processEntities: true, htmlEntities: true }).parse(xml).volume;
    expect(decoded.name).toBe(`x"'<&>.raw`);
    expect(decoded.backingStore.path).toBe('/p/<b>&"base".qcow2');
  });
});

describe('ssh jumps', () => {
  it('quote each value as one shell word in ProxyCommand', () => {
    expect(shellWord("it's here")).toBe(`'it'\\''s here'`);
    expect(proxyCommand({ host: 'h', user: 'root', keyFile: "/k ey's" })).toBe(`ssh -W %h:%p -i '/k ey'\\''s' -o IdentitiesOnly=yes -o BatchMode=yes -o LogLevel=ERROR root@h`);
  });
  it('refuse values that cannot survive ssh and Ansible quoting', () => {
    for (const keyFile of ['/k%h', '/k"x', '/k\\x', '/k\nx']) expect(() => proxyCommand({ host: 'h', keyFile })).toThrow(/cannot use/);
  });
  it('go into each remote guest\'s host variables (JSON) and its host\'s group vars (INI, on one line)', () => {
    const [a, b] = fleet.guests.map((g) => g.name === 'a' ? { name: 'a', ip: '192.168.122.5', guest: g, host: fleet.hosts[1]! } : { name: 'b', ip: '192.168.122.5', guest: g, host: fleet.hosts[0]! });
    const inv = buildInventory(fleet, [a!, b!]);
    expect(inv.groups.host_box1).toEqual(['a']);
    expect(inv.groups.host_local).toEqual(['b']);
    expect(inv.groupVars.host_box1!.ansible_ssh_common_args).toBe(`-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR ${ansibleJumpArgs(fleet.hosts[1]!.jump!)}`);
    expect(inv.groupVars.host_local).toBeUndefined();
    // The dynamic inventory carries it in the host's own variables (host variables outrank group ones).
    const j = inventoryJson(inv) as { _meta: { hostvars: Record<string, Record<string, string>> } };
    expect(j._meta.hostvars.a!.ansible_ssh_common_args).toMatch(/ProxyCommand="ssh -W %h:%p -p 2222 -i \/root\/.ssh\/lab .* root@box1.lab"$/);
    expect(j._meta.hostvars.b!.ansible_ssh_common_args).not.toMatch(/ProxyCommand/);
    expect(inventoryIni(inv)).toMatch(/\n\[host_box1:vars\]\nansible_ssh_common_args=-o StrictHostKeyChecking=no .*ProxyCommand="ssh -W %h:%p -p 2222 .*"\n/);
    // The disk records name the remote volume.
    expect((inv.structured.a!.flakevirt_disks as Array<{ hostFile: string }>)[0]!.hostFile).toBe('/var/lib/libvirt/flakevirt/a.vdb.raw');
  });
  it('go into ssh_config as a jump Host block each remote guest ProxyJumps through', () => {
    const text = renderSshConfig(fleet, [{ name: 'a', ip: '192.168.122.5', host: fleet.hosts[1]! }, { name: 'b', ip: '192.168.122.6', host: fleet.hosts[0]! }], 'hint');
    expect(text).toMatch(/Host a\n(  .*\n)*  ProxyJump flakevirt-jump-box1\n/);
    expect(text).toMatch(/Host flakevirt-jump-box1\n  HostName box1.lab\n  User root\n  Port 2222\n  IdentityFile \/root\/.ssh\/lab\n/);
    expect(text.split('Host b\n')[1]!.split('\n\n')[0]).not.toMatch(/ProxyJump/);
  });
});
