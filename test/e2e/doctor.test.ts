// flakevirt doctor on real test hosts: a healthy one passes; with one thing taken away each — the
// network, room in the pool (a nearly full small filesystem), sshd on a remote host — exactly that
// check fails, with its fix; and the KVM probe finds what this machine does (KVM guests hang).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';

const skip = e2eSkipReason() ?? (hasCommand('ssh') && hasCommand('/usr/sbin/sshd') ? undefined : 'openssh-client and openssh-server are needed');
const ctl = skip ? undefined : new TestHost('doc');
const box = skip ? undefined : new TestHost('docbox');
let key = '';
let ip = '';

type Check = { host: string; check: string; state: string; detail: string; fix?: string; needed: boolean };
function doctor(spec: string, ...args: string[]): { status: number; checks: Check[]; text: string } {
  const j = ctl!.flakevirt('doctor', '-f', spec, '--json', ...args);
  const t = ctl!.flakevirt('doctor', '-f', spec, ...args);
  return { status: j.status, checks: JSON.parse(j.stdout) as Check[], text: t.stdout };
}
const failing = (checks: Check[]) => checks.filter((c) => c.state === 'fail').map((c) => `${c.host}/${c.check}`);

function writeSpec(name: string, body: string): string {
  const f = join(ctl!.scratch, name);
  writeFileSync(f, body);
  return f;
}
const boot = () => { const g = tinyGuest(); return `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`; };

describe.skipIf(skip)('flakevirt doctor', () => {
  beforeAll(() => {
    for (const h of [ctl!, box!]) h.up();
    key = join(ctl!.scratch, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    ip = box!.link(ctl!, 51);
    box!.sshd('start', `${key}.pub`);
  });
  afterAll(() => { for (const h of [ctl, box]) h?.down(); });

  it('passes on a healthy host, one line per check', () => {
    const spec = writeSpec('ok.yaml', `pool: ${join(ctl!.scratch, 'pool')}\naccel: tcg\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n  d1: { ${boot()}, disks: { /dev/nvme0n1: { size: 64MiB, logicalBlockSize: 4096 }, /dev/vdb: { size: 32MiB } } }\n`);
    const r = doctor(spec);
    expect(r.status, r.text).toBe(0);
    expect(failing(r.checks)).toEqual([]);
    const by = (c: string) => r.checks.find((x) => x.check === c)!;
    expect(by('libvirt').detail).toMatch(/^libvirt \d+\.\d+\.\d+ at qemu:\/\/\/system, QEMU \d+/);
    expect(by('qemu')).toMatchObject({ state: 'ok', needed: true });
    expect(by('qemu').detail).toMatch(/^QEMU \d+\.\d+\.\d+ \(\S+\): NVMe: mdts/);
    expect(by('network')).toMatchObject({ state: 'ok', detail: expect.stringMatching(/^default is active \(bridge \S+\)$/) });
    expect(by('pool')).toMatchObject({ state: 'ok', needed: true });
    // accel: tcg: KVM is not asked for, so not probed.
    expect(by('kvm').needed).toBe(false);
    expect(r.text).toMatch(/^local\s+network\s+ok\s+default is active/m);
    // Nothing made: no domain, no pool directory.
    expect(ctl!.virsh('list', '--all', '--name').trim()).toBe('');
  });

  it('without the network, exactly the network check fails, with the fix', () => {
    const spec = writeSpec('net.yaml', `pool: ${join(ctl!.scratch, 'pool')}\naccel: tcg\nguests:\n  d1: { ${boot()}, memory: 256MiB, vcpus: 1 }\n`);
    const xml = ctl!.virsh('net-dumpxml', 'default');
    ctl!.virsh('net-destroy', 'default');
    ctl!.virsh('net-undefine', 'default');
    try {
      const r = doctor(spec);
      expect(r.status).toBe(1);
      expect(failing(r.checks)).toEqual(['local/network']);
      expect(r.text).toMatch(/network\s+fail\s+no network named default\n\s+fix: define it \(virsh net-define/);
    } finally {
      const f = join(ctl!.scratch, 'default-net.xml');
      writeFileSync(f, xml);
      ctl!.virsh('net-define', f);
      ctl!.virsh('net-start', 'default');
    }
    expect(doctor(spec).status).toBe(0);
  });

  it('with the pool on a nearly full small filesystem, exactly the pool check fails', () => {
    const small = join(ctl!.scratch, 'small');
    mkdirSync(small);
    // In the test host's own mount namespace, where flakevirt runs.
    expect(ctl!.exec(['mount', '-t', 'tmpfs', '-o', 'size=16m,mode=755', 'tmpfs', small]).status).toBe(0);
    try {
      expect(ctl!.exec(['dd', 'if=/dev/zero', `of=${join(small, 'fill')}`, 'bs=1M', 'count=15']).status).toBe(0);
      const spec = writeSpec('pool.yaml', `pool: ${join(small, 'pool')}\naccel: tcg\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n  d1: { ${boot()}, disks: { /dev/vdb: { size: 4GiB } } }\n`);
      const r = doctor(spec);
      expect(r.status).toBe(1);
      expect(failing(r.checks)).toEqual(['local/pool']);
      expect(r.checks.find((c) => c.check === 'pool')!.detail).toMatch(new RegExp(`^\\d+(\\.\\d+)?[KM]iB free at ${small}; the spec's guests here can grow to 5GiB`));
    } finally {
      ctl!.exec(['umount', small]);
    }
  });

  it('a remote host with sshd stopped: exactly its libvirt check fails, naming ssh', () => {
    const spec = writeSpec('remote.yaml', `pool: ${join(ctl!.scratch, 'pool')}\naccel: tcg\nhosts:\n  local: { connect: "qemu:///system" }\n  box: { connect: "qemu+ssh://root@${ip}/system?keyfile=${key}&no_verify=1" }\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n  d1: { host: box, ${boot()} }\n  d2: { host: local, ${boot()} }\n`);
    const ok = doctor(spec);
    expect(ok.status, ok.text).toBe(0);
    expect(ok.checks.filter((c) => c.host === 'box').map((c) => [c.check, c.state])).toEqual(expect.arrayContaining([['libvirt', 'ok'], ['ssh', 'ok'], ['network', 'ok'], ['qemu', 'ok']]));
    // The remote host's QEMU, asked over ssh of the host itself.
    expect(ok.checks.find((c) => c.host === 'box' && c.check === 'qemu')!.detail).toMatch(/^QEMU \d+\.\d+\.\d+ \(\/\S+\): NVMe: mdts/);
    box!.sshd('stop');
    try {
      const r = doctor(spec);
      expect(r.status).toBe(1);
      expect(failing(r.checks)).toEqual(['box/libvirt']);
      expect(r.text).toMatch(/^box\s+libvirt\s+fail\s+cannot connect to qemu\+ssh:\/\/root@[\d.]+\/system\S*: .*\n\s+fix: make sure ssh to the host works/m);
    } finally {
      box!.sshd('start', `${key}.pub`);
    }
  });

  it('probes KVM when a guest would use it: on this machine a KVM guest\'s kernel never starts, and doctor says to use TCG', () => {
    const spec = writeSpec('kvm.yaml', `pool: ${join(ctl!.scratch, 'pool')}\naccel: auto\nguests:\n  d1: { ${boot()}, memory: 256MiB, vcpus: 1 }\n`);
    const r = doctor(spec);
    const kvm = r.checks.find((c) => c.check === 'kvm')!;
    if (kvm.detail.startsWith('not offered')) return void expect(r.status).toBe(0); // a host without /dev/kvm
    expect(kvm.needed).toBe(true);
    // FACTS.md: here /dev/kvm is there, SeaBIOS runs under KVM, and the kernel hangs in its
    // decompressor. The probe boots the tiny guest's kernel and waits for its banner.
    expect(kvm.detail).toContain('/var/cache/flakevirt/tiny-guest/vmlinuz');
    if (kvm.state === 'ok') expect(kvm.detail).toMatch(/booted \S+ to its banner in \d+ ms/); // where KVM works
    else {
      expect(kvm).toMatchObject({ state: 'fail', fix: 'set accel: tcg in the spec (for d1)' });
      expect(kvm.detail).toMatch(/printed no kernel banner within 8 s( \(last: ".*"\))?: KVM guests hang on this host/);
      expect(r.status).toBe(1);
    }
    // The probe's domain is gone.
    expect(ctl!.virsh('list', '--all', '--name').trim()).toBe('');
  });
});
