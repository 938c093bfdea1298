// Rendered Nix and domain XML: golden files, round trip, and the real validators where installed.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetFromFixture, TEST_ROOT } from '../helpers/fixtures.js';
import { domainXml, guest } from '../helpers/render.js';
import { missing, NIX_ENV } from '../helpers/tools.js';
import { renderNix } from '../../src/render/nix.js';
import { credentials } from '../../src/render/domain.js';
import { udevRules } from '../../src/render/udev.js';
import { udevValue } from '../../src/escape/udev.js';
import { buildXml, parseXml } from '../../src/libvirt-xml/tree.js';

const fleet = fleetFromFixture('storage.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'flakevirt-render-'));

/** Compares with test/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead. */
function golden(name: string, actual: string): void {
  const file = join(TEST_ROOT, 'golden', name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const rendered = {
  'xfs-4k.flake.nix': renderNix(fleet, guest(fleet, 'xfs-4k'))['flake.nix'],
  'xfs-4k.default.nix': renderNix(fleet, guest(fleet, 'xfs-4k'))['default.nix'],
  'xfs-4k.domain.xml': domainXml(fleet, 'xfs-4k'),
  'xfs-4k.domain-native-nvme.xml': domainXml(fleet, 'xfs-4k', { nvme: 'native' }),
  'prebuilt.domain.xml': domainXml(fleet, 'prebuilt'),
};

describe('golden files (2 NVMe + 2 virtio disks, mounted and not)', () => {
  it.each(Object.keys(rendered))('%s', (name) => golden(name, rendered[name as keyof typeof rendered]));
});

describe('domain XML', () => {
  it.each(Object.keys(rendered).filter((n) => n.endsWith('.xml')))('round-trips through the parser unchanged: %s', (name) => {
    const xml = rendered[name as keyof typeof rendered].replace(/^<!--.*-->\n/, '');
    expect(buildXml(parseXml(xml))).toBe(xml);
  });

  const skip = missing('virt-xml-validate');
  it.skipIf(skip).each(['xfs-4k.domain.xml', 'prebuilt.domain.xml'])('passes virt-xml-validate: %s', (name) => {
    const file = join(tmp, name);
    writeFileSync(file, rendered[name as keyof typeof rendered]);
    const r = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/validates/);
  });

  it('puts the root disk at vda on top of the base image without relabeling it', () => {
    const xml = rendered['xfs-4k.domain.xml'];
    expect(xml).toMatch(/<source file="\/var\/lib\/libvirt\/images\/flakevirt\/xfs-4k\/root.qcow2"\/>\s*<backingStore type="file">\s*<format type="qcow2"\/>\s*<source file="\/nix\/store\/[^"]+\/nixos.qcow2">\s*<seclabel model="dac" relabel="no"\/>/);
    expect(xml).toMatch(/<target dev="vda" bus="virtio"\/>/);
  });

  it('gives NVMe controllers their own root ports at fixed slots and one nvme-ns per namespace', () => {
    const xml = rendered['xfs-4k.domain.xml'];
    expect(xml).toContain('pcie-root-port,id=fv-nvme0-port,bus=pcie.0,addr=0x10,chassis=50');
    expect(xml).toContain('pcie-root-port,id=fv-nvme1-port,bus=pcie.0,addr=0x11,chassis=51');
    expect(xml).toContain('nvme-ns,drive=fv-nvme0n1,bus=fv-nvme0,nsid=1,logical_block_size=4096,physical_block_size=4096');
    expect(xml).toMatch(/cache.direct=on,aio=native/);
  });

  it('uses TCG without host-passthrough for accel: tcg, and direct kernel boot', () => {
    const xml = rendered['prebuilt.domain.xml'];
    expect(xml).toMatch(/<domain type="qemu"/);
    expect(xml).not.toMatch(/host-passthrough/);
    expect(xml).toMatch(/<kernel>\/srv\/k\/bzImage<\/kernel>\s*<initrd>\/srv\/k\/initrd<\/initrd>\s*<cmdline>console=ttyS0 root=\/dev\/vda1<\/cmdline>/);
    expect(xml).not.toMatch(/qemu:commandline/);
  });

  it('marks ownership and hands the hostname over SMBIOS', () => {
    const xml = rendered['xfs-4k.domain.xml'];
    expect(xml).toMatch(/<flakevirt:guest xmlns:flakevirt="http:\/\/flakevirt.dev\/xmlns\/guest\/1">/);
    expect(xml).toMatch(/<flakevirt:fingerprint>[0-9a-f]{64}<\/flakevirt:fingerprint>/);
    expect(xml).toContain('<entry>io.systemd.credential:system.hostname=xfs-4k</entry>');
    expect(xml).toContain('<smbios mode="sysinfo"/>');
  });

  it('hands the spec\'s keys and user to the guest as systemd credentials, and only when there are keys', () => {
    const creds = credentials(fleet, guest(fleet, 'xfs-4k'));
    const keys = creds.find((c) => c.startsWith('io.systemd.credential.binary:ssh.authorized_keys.root='))!;
    expect(Buffer.from(keys.split('=').slice(1).join('='), 'base64').toString()).toBe(`${fleet.sshKeys.join('\n')}\n`);
    expect(creds).toContain(`io.systemd.credential:flakevirt.user=${fleet.user}`);
    expect(credentials({ ...fleet, sshKeys: [] }, guest(fleet, 'xfs-4k')).filter((c) => !c.includes('flakevirt.udev-rules'))).toEqual(['io.systemd.credential:system.hostname=xfs-4k']);
    // A key change is a change of the guest (it reaches the guest on its next boot).
    const other = { ...fleet, sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther other@host'] };
    expect(domainXml(other, 'xfs-4k').match(/<flakevirt:fingerprint>(\w+)/)![1]).not.toBe(rendered['xfs-4k.domain.xml'].match(/<flakevirt:fingerprint>(\w+)/)![1]);
  });

  it('derives a stable MAC per guest', () => {
    const a = guest(fleet, 'xfs-4k').mac;
    expect(a).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(guest(fleetFromFixture('storage.yaml'), 'xfs-4k').mac).toBe(a);
    expect(guest(fleet, 'prebuilt').mac).not.toBe(a);
  });
});

describe('Nix files', () => {
  const skip = missing('nix-instantiate');
  it.skipIf(skip).each(['xfs-4k.flake.nix', 'xfs-4k.default.nix'])('parse with nix-instantiate --parse: %s', (name) => {
    const file = join(tmp, name);
    writeFileSync(file, rendered[name as keyof typeof rendered]);
    execFileSync('nix-instantiate', ['--parse', file], { env: NIX_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  });

  it.skipIf(skip)('the shared guest library parses: nix/flakevirt-guest.nix', () => {
    execFileSync('nix-instantiate', ['--parse', join(TEST_ROOT, '..', 'nix', 'flakevirt-guest.nix')], { env: NIX_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  });

  it('mounts disks by flakevirt\'s own paths, linked by serial and namespace id, never by probe-order names', () => {
    const nix = rendered['xfs-4k.default.nix'];
    expect(nix).toContain('device = "/dev/flakevirt/nvme0n1";');
    expect(nix).toContain('device = "/dev/flakevirt/vdb";');
    expect(nix).not.toMatch(/device = "\/dev\/(nvme|vd)/);
    // The same rule text goes to NixOS (extraRules) and to every guest as a credential.
    const rules = udevRules(guest(fleet, 'xfs-4k'));
    expect(rules).toContain('ATTRS{serial}=="fvnvme0", ATTR{nsid}=="1", SYMLINK+="flakevirt/nvme0n1"');
    expect(rules).toContain('KERNEL!="nvme*c*n*"');
    expect(rules).toContain('ATTR{serial}=="fv-vdb", SYMLINK+="flakevirt/vdb"');
    const cred = credentials(fleet, guest(fleet, 'xfs-4k')).find((c) => c.startsWith('io.systemd.credential.binary:flakevirt.udev-rules='))!;
    expect(Buffer.from(cred.split('=').slice(1).join('='), 'base64').toString()).toBe(rules);
  });
  it('refuses a value udev would read as a pattern or substitution', () => {
    for (const bad of ['fv*', 'a b', 'x"y', '$devnode', '%k', 'a[1]', '']) expect(() => udevValue(bad), bad).toThrow();
    expect(udevValue('fv-vdb.1_A')).toBe('fv-vdb.1_A');
  });

  it('renders no identity into the image configuration', () => {
    const a = renderNix(fleet, guest(fleet, 'xfs-4k'))['default.nix'];
    expect(a).not.toContain('xfs-4k');
    expect(a).toContain('networking.hostName = lib.mkForce "";');
  });
});
