// Domains from a local libvirtd's state files: the text they hold (pure), and which files are trusted
// (a planted, linked, linked-to, writable or renamed file is not libvirt's). The comparison with
// the API on a real daemon is test/e2e/libvirt-state.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stateDomain } from '../../src/libvirt-xml/state-files.js';
import { stateDomains } from '../../src/adapters/libvirt-state.js';

const HEADER = `<!--
WARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE
OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:
  virsh edit NAME
-->
`;
const domain = (name: string, id = '') => `<domain type='qemu'${id}>\n  <name>${name}</name>\n  <uuid>4f1b…</uuid>\n  <metadata><x:y xmlns:x='urn:x'><name>inner</name></x:y></metadata>\n</domain>`;
const config = (name: string) => `${HEADER}\n${domain(name)}\n`;
const status = (name: string, state = 'running') => `${HEADER}\n<domstatus state='${state}' reason='booted' pid='9798'>\n  <monitor path='/var/lib/libvirt/qemu/domain-3-x/monitor.sock' type='unix'/>\n  <qemuCaps>\n    <flag name='kvm'/>\n  </qemuCaps>\n  ${domain(name, " id='3'")}\n</domstatus>\n`;

describe('stateDomain (the files as text)', () => {
  it('a persistent domain that is not running: shut off, its config', () => {
    expect(stateDomain('g1', { config: config('g1') })).toEqual({ name: 'g1', running: false, state: 'shut off', xml: domain('g1') });
  });
  it('a running domain: the status file\'s state and live <domain>, not the config', () => {
    expect(stateDomain('g1', { status: status('g1'), config: config('g1') })).toEqual({ name: 'g1', running: true, state: 'running', xml: domain('g1', " id='3'") });
    expect(stateDomain('g1', { status: status('g1', 'paused') })).toMatchObject({ running: true, state: 'paused' });
    expect(stateDomain('g1', { status: status('g1', 'pmsuspended') })).toMatchObject({ running: false, state: 'suspended' });
    expect(stateDomain('g1', { status: status('g1', 'shutdown') })).toMatchObject({ running: false, state: 'shutting down' });
  });
  it('names are compared unescaped', () => {
    expect(stateDomain("a&b'c", { config: config('a&amp;b&apos;c') })?.name).toBe("a&b'c");
  });
  it('cannot tell: a file renamed into another name, an unknown state, no <domain>', () => {
    expect(stateDomain('g2', { config: config('g1') })).toBeUndefined();
    expect(stateDomain('g2', { status: status('g1'), config: config('g2') })).toBeUndefined();
    expect(stateDomain('g1', { status: status('g1', 'dancing'), config: config('g1') })).toBeUndefined();
    expect(stateDomain('g1', { status: "<domstatus state='running'></domstatus>" })).toBeUndefined();
    expect(stateDomain('g1', {})).toBeUndefined();
  });
});

const notRoot = process.getuid?.() !== 0 ? 'the trust checks need root (files owned by root and by another user)' : undefined;
if (notRoot) process.stderr.write(`skipped: ${notRoot}\n`);

describe.skipIf(notRoot)('stateDomains (which files are libvirt\'s)', () => {
  let dir = '';
  let dirs = { config: '', status: '' };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flakevirt-state-'));
    dirs = { config: join(dir, 'etc'), status: join(dir, 'run') };
    mkdirSync(dirs.config, { mode: 0o755 });
    mkdirSync(dirs.status, { mode: 0o755 });
    // /run/libvirt/qemu belongs to the QEMU user, as libvirt makes it.
    chownSync(dirs.status, 65534, 65534);
    writeFileSync(join(dirs.status, 'driver.pid'), '42\n', { mode: 0o644 });
    writeFileSync(join(dirs.config, 'g1.xml'), config('g1'), { mode: 0o600 });
    writeFileSync(join(dirs.config, 'g2.xml'), config('g2'), { mode: 0o600 });
    writeFileSync(join(dirs.status, 'g2.xml'), status('g2'), { mode: 0o600 });
    writeFileSync(join(dirs.status, 'probe.xml'), status('probe'), { mode: 0o600 });
    mkdirSync(join(dirs.config, 'autostart'));
    writeFileSync(join(dirs.status, 'g2.pid'), '9798');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const names = () => stateDomains(dirs)?.map((d) => `${d.name}:${d.state}`).sort();

  it('persistent, running and transient domains', () => {
    expect(names()).toEqual(['g1:shut off', 'g2:running', 'probe:running']);
  });
  it('what the QEMU user plants in its directory is skipped: its own file, a symlink, a hard link, a FIFO', () => {
    const planted = join(dirs.status, 'evil.xml');
    writeFileSync(planted, status('evil'), { mode: 0o600 });
    chownSync(planted, 65534, 65534);
    symlinkSync(join(dirs.config, 'g1.xml'), join(dirs.status, 'g1.xml'));
    linkSync(join(dirs.config, 'g2.xml'), join(dirs.status, 'linked.xml'));
    execFileSync('mkfifo', [join(dirs.status, 'fifo.xml')]);
    // g1 still reads as shut off (the symlink to its config is not a status file); g2's config, linked
    // twice now, is skipped like its link, and its status file still says it runs.
    expect(names()).toEqual(['g1:shut off', 'g2:running', 'probe:running']);
    rmSync(join(dirs.status, 'g2.xml'));
    expect(names()).toEqual(['g1:shut off', 'probe:running']);
  });
  it('a root file others may write is not trusted', () => {
    chmodSync(join(dirs.status, 'probe.xml'), 0o666);
    expect(names()).toEqual(['g1:shut off', 'g2:running']);
  });
  it('a status file renamed into another name, or an unknown state: ask libvirt', () => {
    writeFileSync(join(dirs.status, 'g1.xml'), status('g2'), { mode: 0o600 });
    expect(stateDomains(dirs)).toBeUndefined();
    writeFileSync(join(dirs.status, 'g1.xml'), status('g1', 'dancing'), { mode: 0o600 });
    expect(stateDomains(dirs)).toBeUndefined();
  });
  it('no daemon\'s files, or a config directory others may write: ask libvirt', () => {
    rmSync(join(dirs.status, 'driver.pid'));
    expect(stateDomains(dirs)).toBeUndefined();
    writeFileSync(join(dirs.status, 'driver.pid'), '42\n', { mode: 0o644 });
    chmodSync(dirs.config, 0o777);
    expect(stateDomains(dirs)).toBeUndefined();
    chmodSync(dirs.config, 0o755);
    expect(names()).toHaveLength(3);
    expect(stateDomains({ ...dirs, status: join(dir, 'none') })).toBeUndefined();
  });
});
