// doctor's verdicts (src/doctor.ts) and the KVM probe's domain (adapters/kvm-probe.ts).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doctorExit, doctorText, poolVerdict, versionAtLeast, type Check } from '../../src/doctor.js';
import { kvmProbe, probeXml, PROBE_PREFIX } from '../../src/adapters/kvm-probe.js';
import { parseDomain } from '../../src/libvirt-xml/domain.js';
import { hasCommand } from '../helpers/tools.js';

const GiB = 2 ** 30;
const check = (over: Partial<Check>): Check => ({ host: 'local', check: 'pool', state: 'ok', detail: 'd', needed: true, ...over });

describe('doctor verdicts', () => {
  it('exits 1 only when a check the spec needs fails', () => {
    expect(doctorExit([check({}), check({ state: 'warn' })])).toBe(0);
    expect(doctorExit([check({ state: 'fail', needed: false })])).toBe(0);
    expect(doctorExit([check({}), check({ state: 'fail' })])).toBe(1);
  });

  it('pool: enough room is ok, a tenth (or 1 GiB) is a warning (sparse disks start empty), less fails', () => {
    expect(poolVerdict(50 * GiB, 40 * GiB, '/p').state).toBe('ok');
    expect(poolVerdict(5 * GiB, 40 * GiB, '/p')).toMatchObject({ state: 'warn', fix: expect.stringMatching(/ENOSPC/) });
    expect(poolVerdict(1 << 20, 40 * GiB, '/p')).toMatchObject({ state: 'fail', detail: '1MiB free at /p; the spec\'s guests here can grow to 40GiB (root disks and extra disks, all written)' });
    expect(poolVerdict(0, 0, '/p').state).toBe('ok');
  });

  it('compares versions part by part', () => {
    expect(versionAtLeast('2.8.0', '2.4')).toBe(true);
    expect(versionAtLeast('2.10', '2.4')).toBe(true);
    expect(versionAtLeast('2.3.16', '2.4')).toBe(false);
    expect(versionAtLeast('2.4', '2.4')).toBe(true);
  });

  it('prints one line per check and the fix under one that is not ok', () => {
    const text = doctorText([check({ detail: '9GiB free' }), check({ host: 'box1', check: 'network', state: 'fail', detail: 'no network named default', fix: 'define it' }), check({ check: 'virtiofsd', state: 'warn', detail: 'not found', needed: false, fix: 'install it' })]);
    expect(text).toBe([
      'local  pool       ok    9GiB free',
      'box1   network    fail  no network named default',
      '                        fix: define it',
      'local  virtiofsd  warn  not found (the spec does not need it)',
      '                        fix: install it',
      '',
    ].join('\n'));
  });
});

describe('the KVM probe domain', () => {
  it('is a small transient kvm domain of flakevirt\'s, no disks, firmware on a logged serial port', () => {
    const xml = probeXml(`${PROBE_PREFIX}0123abcd`, '/tmp/flakevirt-kvm-probe-x/serial.log');
    const d = parseDomain(xml);
    expect(d.type).toBe('kvm');
    expect(d.name).toBe('flakevirt-doctor-kvm-probe-0123abcd');
    expect(d.devices.disks).toEqual([]);
    expect(d.devices.serials[0]?.log).toEqual({ file: '/tmp/flakevirt-kvm-probe-x/serial.log', append: 'off' });
    expect(xml).toContain("<bios useserial='yes'/>");
    const k = parseDomain(probeXml(`${PROBE_PREFIX}1`, '/tmp/l', '/var/cache/flakevirt/tiny-guest/vmlinuz'));
    expect(k.os.kernel).toBe('/var/cache/flakevirt/tiny-guest/vmlinuz');
    expect(k.os.cmdline).toBe('console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1');
  });

  // A stand-in libvirt that "runs" the probe by writing what a guest would print into its serial log.
  const fakeLibvirt = (printed: string) => {
    const destroyed: string[] = [];
    return {
      destroyed,
      lv: {
        createTransient: async (xml: string) => { writeFileSync(/<log file='([^']+)'/.exec(xml)![1]!, printed); },
        destroy: async (name: string) => { destroyed.push(name); },
      },
    };
  };

  it('with a kernel: ok only once the kernel\'s own banner is there; the decompressor alone is the hang this machine has', async () => {
    const kernel = join(mkdtempSync(join(tmpdir(), 'flakevirt-probe-k-')), 'vmlinuz');
    writeFileSync(kernel, 'x');
    const ok = fakeLibvirt('Probing EDD (edd=off to disable)... ok\r\n[    0.000000] Linux version 6.12.95+deb12-cloud-amd64 (gcc) #1 SMP\r\n');
    expect(await kvmProbe(ok.lv, 2000, [kernel])).toMatchObject({ booted: kernel, ms: expect.any(Number) });
    expect(ok.destroyed).toHaveLength(1);
    // Seen here under KVM (nested): the decompressor's lines, then nothing.
    const hang = fakeLibvirt('Probing EDD (edd=off to disable)... ok\r\n\x1b[0mInvalid physical address chosen!\r\n\r\nPhysical KASLR disabled: no suitable memory region!\r\n');
    expect(await kvmProbe(hang.lv, 500, [kernel])).toEqual({ booted: kernel, last: 'Physical KASLR disabled: no suitable memory region!' });
    expect(hang.destroyed[0]).toMatch(/^flakevirt-doctor-kvm-probe-[0-9a-f]{8}$/);
  });

  it('without a kernel: the firmware\'s first byte is all it can wait for', async () => {
    expect(await kvmProbe(fakeLibvirt('SeaBIOS (version 1.16.3)\r\n').lv, 500, ['/nonexistent/vmlinuz'])).toMatchObject({ booted: 'the firmware', ms: expect.any(Number) });
    expect(await kvmProbe(fakeLibvirt('').lv, 300, [])).toEqual({ booted: 'the firmware' });
  });

  it.skipIf(!hasCommand('virt-xml-validate'))('is a domain libvirt\'s schema accepts', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'flakevirt-probe-')), 'probe.xml');
    writeFileSync(f, probeXml(`${PROBE_PREFIX}0123abcd`, '/tmp/x/serial.log'));
    const r = spawnSync('virt-xml-validate', [f, 'domain'], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
  });
});
