// flakevirt's Nix side against nixos-flake as it really is: the real library's modules and overlay
// (../shared/upstream/nixos-flake, kdevops 4b6bbb7f) under nixpkgs' real module system, with the
// nixpkgs stand-in (test/fixtures/nix/nixpkgs-standin) for the rest. Every profile and test suite
// must evaluate alone and together; the stand-ins must fail the way the real thing fails when the
// composition deviates from the library's contract (no overlay, conflicting definitions, a failed
// assertion, a unit name nix cannot store).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { missing } from '../helpers/tools.js';
import { nixFixture, nixosFlakeOn, upstreamMissing, type NixFixture } from '../helpers/nix.js';
import { tinyGuest } from '../helpers/testhost.js';
import { fakeBzImage } from '../helpers/bzimage.js';

const skip = process.getuid?.() !== 0 ? 'nix evaluation of path: flakes needs root here (single-user nix-bin)' : missing('nix') ?? upstreamMissing();
if (skip) process.stderr.write(`skipped: ${skip}\n`);
const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const PROFILES = ['build-tools', 'controller', 'devel', 'monitoring'];
const SUITES = ['blktests', 'fstests', 'gitr', 'ltp', 'mmtests', 'pynfs', 'selftests', 'sysbench'];
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContract me@host';
let fx: NixFixture;

function flakevirt(spec: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, '-f', spec, ...args], { encoding: 'utf8', env: { ...process.env, ...fx.env }, cwd: fx.dir });
}
function nix(...args: string[]) {
  return spawnSync('nix', ['--extra-experimental-features', 'nix-command flakes', ...args], { encoding: 'utf8', env: { ...process.env, ...fx.env } });
}
function spec(name: string, guests: string): string {
  const file = join(fx.dir, `${name}.yaml`);
  writeFileSync(file, `nixosFlake: ${fx.nixosFlake}\nsshKeys: ["${KEY}"]\ndefaults: { memory: 512MiB, vcpus: 1, diskSize: 256MiB, profiles: [] }\nguests:\n${guests}`);
  return file;
}
/** A copy of a rendered guest directory to change by hand (what flakevirt must never render). */
function variant(guest: string, edit: (file: string, text: string) => string): string {
  const dir = join(fx.dir, `variant-${guest}-${Math.random().toString(36).slice(2)}`);
  cpSync(join(fx.dir, '.flakevirt', guest), dir, { recursive: true });
  rmSync(join(dir, 'result'), { force: true });
  for (const f of ['flakevirt.nix', 'default.nix']) writeFileSync(join(dir, f), edit(f, readFileSync(join(dir, f), 'utf8')));
  return dir;
}
const drv = (dir: string) => nix('eval', '--raw', `path:${dir}#packages.x86_64-linux.image.drvPath`);

describe.skipIf(skip)('the Nix configuration against the real nixos-flake', () => {
  beforeAll(() => { fx = nixFixture(); });
  afterAll(() => fx && rmSync(fx.dir, { recursive: true, force: true }));

  it('evaluates the default spec, every profile and every test suite alone, and all of them together', () => {
    const guests = [
      '  dflt: { profiles: [devel] }', // the spec's default profile list
      ...PROFILES.map((p) => `  p-${p}: { profiles: [${p}] }`),
      ...SUITES.map((t) => `  t-${t}: { testSuites: [${t}] }`),
      `  all: { profiles: [${PROFILES.join(', ')}], testSuites: [${SUITES.join(', ')}], storage: { /mnt/test: { device: /dev/nvme0n1, size: 16MiB, fsType: xfs, mkfsArgs: ["-b", "size=4k"] }, /mnt/scratch: { device: /dev/vdb, size: 16MiB, fsType: ext4, autoFormat: true } } }`,
    ];
    const file = spec('combos', `${guests.join('\n')}\n`);
    const r = flakevirt(file, 'build', '--check', '--json');
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; ok: boolean; how: string }>;
    expect(rows.map((x) => [x.name, x.ok, x.how])).toEqual(rows.map((x) => [x.name, true, 'evaluates']));
    expect(rows).toHaveLength(PROFILES.length + SUITES.length + 2);
  });

  it('catches a composition without nixos-flake\'s overlay: devel stops at a package only the overlay has', () => {
    expect(drv(join(fx.dir, '.flakevirt', 'dflt')).status).toBe(0);
    const r = drv(variant('dflt', (f, t) => (f === 'flakevirt.nix' ? t.replace('{ nixpkgs.overlays = [ nixos-flake.overlays.default ]; }', '') : t)));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/undefined variable 'xnvme'|attribute '(xnvme|libbpf-tools|cpupower|damo|nfstest|pynfs)' missing/);
  });

  it('catches fstests without the overlay at build time: nixpkgs\' own xfstests no longer builds', () => {
    const dir = variant('t-fstests', (f, t) => (f === 'flakevirt.nix' ? t.replace('{ nixpkgs.overlays = [ nixos-flake.overlays.default ]; }', '') : t));
    const r = spawnSync('nix', ['--extra-experimental-features', 'nix-command flakes', 'build', `path:${dir}#image`, '--no-link'], { encoding: 'utf8', env: { ...process.env, ...fx.env } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/xfstests 2023\.05\.14/);
  });

  it('keeps the module system\'s priorities: a conflict at one priority is an error, mkForce wins', () => {
    /** The guest's default.nix with one more module beside it setting networking.hostName. */
    const withHostName = (own: string, other: string) => {
      const dir = variant('dflt', (f, t) => (f === 'default.nix' ? t.replace('networking.hostName = lib.mkForce "";', own).replace('imports = [', 'imports = [ ./other.nix') : t));
      writeFileSync(join(dir, 'other.nix'), `{ lib, ... }: { networking.hostName = ${other}; }\n`);
      return nix('eval', '--raw', `path:${dir}#nixosConfigurations.dflt.config.networking.hostName`);
    };
    // The template's default.nix sets "vm"; flakevirt's mkForce "" wins over a plain definition.
    const forced = withHostName('networking.hostName = lib.mkForce "";', '"vm"');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toBe('');
    const plain = withHostName('networking.hostName = "a";', 'lib.mkDefault "vm"');
    expect(plain.stdout).toBe('a');
    const clash = withHostName('networking.hostName = "a";', '"b"');
    expect(clash.status).not.toBe(0);
    expect(clash.stderr).toMatch(/conflicting definition values/);
  });

  it('runs the library\'s assertions: autoFormat with mkfsArgs fails evaluation (flakevirt refuses it earlier, exit 2)', () => {
    const dir = variant('all', (f, t) => (f === 'default.nix' ? t.replace('autoFormat = true;', 'autoFormat = true;\n      mkfsArgs = [ "-F" ];') : t));
    const r = drv(dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Failed assertions:[\s\S]*autoFormat and mkfsArgs[\s\S]*mutually exclusive/);
  });

  it('mounts by /dev/flakevirt paths: the by-id path nixos-flake\'s format unit cannot carry in a store name', () => {
    // storage.nix names its mkfs condition script after the systemd-escaped device; "-" becomes "\x2d".
    const dir = variant('all', (f, t) => (f === 'default.nix' ? t.replace('device = "/dev/flakevirt/nvme0n1";', 'device = "/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_fvnvme0_1";') : t));
    const r = drv(dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/blkid-empty-dev-disk-by\\x2did-nvme.*illegal character/);
  });

  it('names the guest and nix\'s own error with exit 2 when what the spec asks for does not evaluate', () => {
    // fstests creates the fsgqa system account; the user module makes `user:` a normal account.
    const file = join(fx.dir, 'fsgqa.yaml');
    writeFileSync(file, readFileSync(spec('x', '  clash: { testSuites: [fstests] }\n'), 'utf8').replace('sshKeys:', 'user: fsgqa\nsshKeys:'));
    const r = flakevirt(file, 'build', '--check');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/clash: .*nix evaluation failed[\s\S]*guests\.clash: its NixOS configuration does not evaluate[\s\S]*Exactly one of users\.users\.fsgqa\.isSystemUser and users\.users\.fsgqa\.isNormalUser must be set/);
    expect(r.stderr).not.toMatch(/at .*\.c?js:\d+/);
  });
});

// Imageless guests (issue 23): the same real library's imageless backend, composed by flakevirt's
// nix/flakevirt-imageless.nix, evaluated for every profile and test suite, and built by the stand-in
// into a closure whose boot.json and stage-1 fstab follow what the configuration says, so a
// configuration that moves the shares is caught where the real initrd would fail.
describe.skipIf(skip)('imageless configurations against the real nixos-flake', () => {
  let kernel = '';
  /** A bzImage header and a modules directory: enough for the spec's checks (no boot here). */
  beforeAll(() => {
    fx = nixFixture(undefined, { userland: tinyGuest().initrd });
    const rel = '6.12.95+deb12-cloud-amd64';
    const b = fakeBzImage(`${rel} #1`);
    mkdirSync(join(fx.dir, 'k', 'lib', 'modules', rel), { recursive: true });
    writeFileSync(join(fx.dir, 'k', 'bzImage'), b);
    writeFileSync(join(fx.dir, 'k', 'lib', 'modules', rel, 'modules.dep'), '');
    kernel = `imageless: { bzImage: ${join(fx.dir, 'k', 'bzImage')}, modules: ${join(fx.dir, 'k', 'lib', 'modules')} }`;
  });
  afterAll(() => fx && rmSync(fx.dir, { recursive: true, force: true }));

  it('evaluates every profile and test suite alone and all of them together', () => {
    const guests = [
      ...PROFILES.map((p) => `  i-${p}: { ${kernel}, profiles: [${p}] }`),
      ...SUITES.map((t) => `  j-${t}: { ${kernel}, testSuites: [${t}] }`),
      `  iall: { ${kernel}, profiles: [${PROFILES.join(', ')}], testSuites: [${SUITES.join(', ')}], storage: { /mnt/test: { device: /dev/nvme0n1, size: 16MiB, fsType: xfs, autoFormat: true } } }`,
    ];
    const r = flakevirt(spec('imageless', `${guests.join('\n')}\n`), 'build', '--check', '--json');
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; ok: boolean; how: string }>;
    expect(rows.map((x) => [x.name, x.ok, x.how])).toEqual(rows.map((x) => [x.name, true, 'evaluates']));
    expect(rows).toHaveLength(PROFILES.length + SUITES.length + 1);
  });

  it('builds a closure whose boot.json names its init and initrd, and whose stage 1 mounts exactly the backend\'s shares', () => {
    const r = flakevirt(spec('one', `  one: { ${kernel}, testSuites: [fstests] }\n`), 'build', 'one', '--json');
    expect(r.status, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout) as Array<{ storePath: string }>;
    const v1 = JSON.parse(readFileSync(join(row!.storePath, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'];
    expect(v1.init).toBe(`${row!.storePath}/init`);
    expect(v1.toplevel).toBe(row!.storePath);
    const fstab = spawnSync('sh', ['-c', `gzip -dc '${v1.initrd}' | cpio -i --to-stdout --quiet etc/fstab`], { encoding: 'utf8' }).stdout;
    expect(fstab).toBe('store /nix/store virtiofs defaults\nmodules /lib/modules virtiofs defaults\n');
    // Not a kernel to boot: nixpkgs' own package, which flakevirt never hands to libvirt.
    expect(readFileSync(v1.kernel, 'utf8')).toMatch(/not a kernel/);
  });

  it('catches a configuration that moves a share: another tag conflicts, a forced one reaches stage 1\'s fstab', () => {
    const build = (line: string) => {
      const dir = variant('one', (f, t) => (f === 'default.nix' ? t.replace('networking.hostName = lib.mkForce "";', `networking.hostName = lib.mkForce "";\n  ${line}`) : t));
      return nix('build', '--no-link', '--json', `path:${dir}#toplevel`);
    };
    const clash = build('fileSystems."/nix/store".device = "nix-store";');
    expect(clash.status).not.toBe(0);
    expect(clash.stderr).toMatch(/fileSystems\."\/nix\/store"\.device' has conflicting definition values/);
    const forced = build('fileSystems."/lib/modules".neededForBoot = lib.mkForce false;');
    expect(forced.status, forced.stderr).toBe(0);
    const out = (JSON.parse(forced.stdout) as Array<{ outputs: { out: string } }>)[0]!.outputs.out;
    const initrd = JSON.parse(readFileSync(join(out, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'].initrd;
    // Without neededForBoot the modules share is left to stage 2, as NixOS would: stage 1 mounts only the store.
    expect(spawnSync('sh', ['-c', `gzip -dc '${initrd}' | cpio -i --to-stdout --quiet etc/fstab`], { encoding: 'utf8' }).stdout).toBe('store /nix/store virtiofs defaults\n');
  });
});

// The same evaluations against real checkouts, where there is a network to fetch them: set
// FLAKEVIRT_NIXOS_FLAKE (a nixos-flake checkout) and FLAKEVIRT_NIXPKGS (a nixpkgs checkout, e.g.
// nixos-26.05) on a host with nix. Every profile and test suite is evaluated alone and together.
const real = process.env.FLAKEVIRT_NIXOS_FLAKE && process.env.FLAKEVIRT_NIXPKGS ? undefined
  : 'set FLAKEVIRT_NIXOS_FLAKE and FLAKEVIRT_NIXPKGS to checkouts of nixos-flake and nixpkgs (a networked host) to run the real-library evaluation';
if (real) process.stderr.write(`skipped: ${real}\n`);
describe.skipIf(real)('the Nix configuration against real nixos-flake + nixpkgs checkouts (opt-in)', () => {
  it('evaluates the drvPath of every profile and test suite alone and together', () => {
    const dir = spawnSync('mktemp', ['-d', '/var/tmp/flakevirt-real-XXXXXX'], { encoding: 'utf8' }).stdout.trim();
    // The library with its nixpkgs input pointed at the nixpkgs checkout (no fetching of either).
    const nixosFlake = nixosFlakeOn(process.env.FLAKEVIRT_NIXOS_FLAKE!, join(dir, 'nixos-flake'), process.env.FLAKEVIRT_NIXPKGS!);
    const file = join(dir, 'flakevirt.yaml');
    const guests = [...PROFILES.map((p) => `  p-${p}: { profiles: [${p}] }`), ...SUITES.map((t) => `  t-${t}: { testSuites: [${t}] }`), `  all: { profiles: [${PROFILES.join(', ')}], testSuites: [${SUITES.join(', ')}] }`];
    writeFileSync(file, `nixosFlake: ${nixosFlake}\nsshKeys: ["${KEY}"]\nguests:\n${guests.join('\n')}\n`);
    const r = spawnSync(process.execPath, [CLI, '-f', file, 'build', '--check', '--json'], { encoding: 'utf8', cwd: dir, timeout: 60 * 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; ok: boolean }>;
    expect(rows.filter((x) => !x.ok)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  }, 60 * 60_000);
});
