// Host kinds: decided once from the URI, one module each (src/host-kinds/).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostFor } from '../../src/hosts.js';
import { kindOf } from '../../src/host-kinds/kind.js';
import type { Libvirt } from '../../src/adapters/libvirt.js';

const defaults = { localPool: '/var/lib/libvirt/images/flakevirt', remotePool: '/var/lib/libvirt/images/flakevirt-pool' };
const localHost = hostFor({ name: 'local', connect: 'qemu:///system' }, defaults);
const remoteHost = hostFor({ name: 'far', connect: 'qemu+ssh://root@10.0.0.2/system' }, defaults);
const noLibvirt = { virsh: { leases: async () => '' } } as unknown as Libvirt;

describe('host kinds', () => {
  it('are decided by the URI when the host is made', () => {
    expect(kindOf(localHost).name).toBe('local');
    expect(kindOf(remoteHost).name).toBe('remote');
    expect(localHost.jump).toBeUndefined();
    expect(remoteHost.local === false && remoteHost.jump).toEqual({ host: '10.0.0.2', user: 'root' });
  });

  it('own where a guest\'s files are: a directory locally, flat pool volumes remotely', () => {
    const l = kindOf(localHost).paths(localHost, 'g1');
    expect(l.dir).toBe('/var/lib/libvirt/images/flakevirt/g1');
    expect(l.disk({ name: 'vdb', format: 'raw' })).toBe('/var/lib/libvirt/images/flakevirt/g1/vdb.raw');
    const r = kindOf(remoteHost).paths(remoteHost, 'g1');
    expect(r.root).toBe('/var/lib/libvirt/images/flakevirt-pool/g1.root.qcow2');
    expect(r.disk({ name: 'vdb', format: 'raw' })).toBe('/var/lib/libvirt/images/flakevirt-pool/g1.vdb.raw');
  });

  it('remote hosts cannot be inspected from here: no file preflight, no live bridge, no domain files; QEMU only over ssh of the host itself', async () => {
    const k = kindOf(remoteHost);
    await expect(k.preflight(['/nonexistent/base.qcow2'], '+64055:+64055', 'g1')).resolves.toBeUndefined();
    // Reached through another machine (or with no ssh at all), QEMU is not where ssh lands: not asked.
    expect(await k.qemuCaps('/usr/bin/qemu-system-x86_64', { ...remoteHost, jump: { host: 'bastion.example' } })).toBeUndefined();
    expect(await k.qemuCaps('/usr/bin/qemu-system-x86_64', { ...remoteHost, jump: undefined })).toBeUndefined();
    expect(await k.stateDomains(remoteHost)).toBeUndefined();
    expect(await k.liveNetwork('default')).toBeUndefined();
    expect((await k.leases(noLibvirt, 'default', 'virbr0')).kind).toBe('virsh');
  });

  it('local hosts check that qemu can read the files before anything is defined', async () => {
    await expect(kindOf(localHost).preflight(['/nonexistent/base.qcow2'], '+64055:+64055', 'g1')).rejects.toThrow(/nonexistent/);
    // qemu running as root (or no DAC label) reads anything: nothing to check.
    await expect(kindOf(localHost).preflight(['/nonexistent/base.qcow2'], '+0:+0', 'g1')).resolves.toBeUndefined();
  });

  it('local hosts read leases from the status file unless FLAKEVIRT_LEASE_SOURCE=virsh', async () => {
    const before = process.env.FLAKEVIRT_LEASE_SOURCE;
    process.env.FLAKEVIRT_LEASE_SOURCE = 'virsh';
    try {
      expect((await kindOf(localHost).leases(noLibvirt, 'default', 'virbr0')).kind).toBe('virsh');
    } finally {
      if (before === undefined) delete process.env.FLAKEVIRT_LEASE_SOURCE;
      else process.env.FLAKEVIRT_LEASE_SOURCE = before;
    }
    // No bridge known: the status file cannot be named, so virsh it is.
    expect((await kindOf(localHost).leases(noLibvirt, 'default', '')).kind).toBe('virsh');
  });
});

describe('one home per host kind', () => {
  // Code that asks a host whether it is local, or reads locality from a URI, instead of its kind.
  const ASKS_LOCAL = /\.local\b(?!\s*:)|isLocalUri\(/;
  it('catches the branches it replaced', () => {
    expect(ASKS_LOCAL.test('      if (this.host.local) {')).toBe(true);
    expect(ASKS_LOCAL.test('      for (const h of selected.filter((x) => x.local)) {')).toBe(true);
  });
  it('finds none outside src/host-kinds/ and hosts.ts (which decides the kind)', () => {
    const src = join(__dirname, '../../src');
    // adapters/libvirt.ts words a connection error differently for a local URI (a message, not a branch of behaviour).
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.startsWith('host-kinds/') && !['hosts.ts', 'adapters/libvirt.ts'].includes(f));
    const hits = files.flatMap((f) => readFileSync(join(src, f), 'utf8').split('\n').map((l, i) => `${f}:${i + 1}: ${l.trim()}`).filter((l) => !/^\S+:\d+: (\/\/|\*|\/\*\*)/.test(l) && ASKS_LOCAL.test(l)));
    expect(hits).toEqual([]);
  });
});
