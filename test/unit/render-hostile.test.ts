// Hostile values that validation lets through reach Nix and XML as exactly themselves.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { fleetFrom } from '../helpers/fixtures.js';
import { domainXml, guest } from '../helpers/render.js';
import { missing, NIX_ENV } from '../helpers/tools.js';
import { renderNix } from '../../src/render/nix.js';
import { nixString } from '../../src/escape/nix.js';

const evilComment = `me@host "\${builtins.abort \\"pwned\\"}" $(reboot) </entry><x a='1'/> ''\${x}''`;
const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostile ${evilComment}`;
const mkfsArgs = ['-L', 'a"b', '${x}', '$(id)', "'q'", '\\', '-m', 'crc=1,finobt=1'];
const mount = `/mnt/a"b\${x}c'd`;
const pool = `/srv/po,ol'"<&>$(x)`;
const cmdline = `console=ttyS0 x="</cmdline>" y=\${z} a,b`;

const text = JSON.stringify({
  pool,
  sshKeys: [key],
  guests: {
    evil: {
      accel: 'tcg',
      image: '/srv/i.qcow2', kernel: '/srv/k', initrd: '/srv/i', cmdline,
      storage: { [mount]: { device: '/dev/nvme0n1', size: '1GiB', fsType: 'xfs', mkfsArgs, options: ['noatime', 'x"y'] } },
      disks: { '/dev/vdb': { size: '1GiB' } },
    },
  },
});
const fleet = fleetFrom(text);
const g = guest(fleet, 'evil');
const nix = renderNix(fleet, g);
const xml = domainXml(fleet, 'evil');

describe('rendered Nix with hostile values', () => {
  const skip = missing('nix-instantiate');
  it.skipIf(skip)('evaluates to exactly the values given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-hostile-'));
    writeFileSync(join(dir, 'default.nix'), nix['default.nix']);
    const stub = `let
      m = (import ${nixString(join(dir, 'default.nix'))}) {
        lib = { mkForce = x: x; };
        nixos-flake = { nixosModules = { profiles = { devel = "devel"; }; testSuites = { }; }; };
      };
    in { keys = m.users.users.root.openssh.authorizedKeys.keys; storage = m.nixos-flake.storage; imports = m.imports; }`;
    const out = JSON.parse(execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '--expr', stub], { env: NIX_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(out.keys).toEqual([key]);
    expect(Object.keys(out.storage)).toEqual([mount]);
    expect(out.storage[mount].mkfsArgs).toEqual(mkfsArgs);
    expect(out.storage[mount].options).toEqual(['noatime', 'x"y']);
    expect(out.imports).toEqual(['devel']);
  });

  it.skipIf(skip)('flake.nix parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-hostile-'));
    writeFileSync(join(dir, 'flake.nix'), nix['flake.nix']);
    execFileSync('nix-instantiate', ['--parse', join(dir, 'flake.nix')], { env: NIX_ENV, stdio: 'ignore' });
  });
});

describe('rendered domain XML with hostile values', () => {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, isArray: (n) => ['disk', 'qemu:arg'].includes(n) });
  const doc = parser.parse(xml).domain;

  it('keeps the pool path, with its quotes and commas, intact in attributes', () => {
    const files = doc.devices.disk.map((d: { source: { '@_file': string } }) => d.source['@_file']);
    expect(files).toContain(`${pool}/evil/root.qcow2`);
    expect(files).toContain(`${pool}/evil/vdb.raw`);
    expect(doc.devices.serial.log['@_file']).toBe(`${pool}/evil/console.log`);
  });

  it('doubles commas in QEMU arguments so a path cannot add options', () => {
    const args: string[] = doc['qemu:commandline']['qemu:arg'].map((a: { '@_value': string }) => a['@_value']);
    expect(args).toContain(`driver=file,node-name=fv-nvme0n1-file,filename=${pool.replace(/,/g, ',,')}/evil/nvme0n1.raw,cache.direct=on,aio=native`);
  });

  it('keeps the kernel command line as text', () => {
    expect(doc.os.cmdline).toBe(cmdline);
  });

  const skip = missing('virt-xml-validate');
  it.skipIf(skip)('still validates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-hostile-'));
    writeFileSync(join(dir, 'd.xml'), xml);
    execFileSync('virt-xml-validate', [join(dir, 'd.xml'), 'domain'], { stdio: 'ignore' });
  });
});
