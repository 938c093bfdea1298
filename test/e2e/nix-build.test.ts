// flakevirt build with the real nix CLI, offline, on the real nixos-flake and nixpkgs' real lib
// (../shared/upstream) with the nixpkgs stand-in (test/fixtures/nix/nixpkgs-standin). Needs root
// (Debian's nix-bin writes /nix/store as root).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, readlinkSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { missing } from '../helpers/tools.js';
import { nixFixture, upstreamMissing, type NixFixture } from '../helpers/nix.js';

const skip = process.getuid?.() !== 0 ? 'nix builds need root here (single-user nix-bin)' : missing('nix', 'qemu-img') ?? upstreamMissing();
if (skip) process.stderr.write(`skipped: ${skip}\n`);
const CLI = join(REPO_ROOT, 'dist', 'cli.js');
let fx: NixFixture;
/** Makes this run's derivations new to the store, so nix really builds them. */
const RUN = `${Date.now()}-${process.pid}`;
let spec = '';

function flakevirt(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...fx.env }, cwd: fx.dir });
}

function writeSpec(n3Profiles = '[devel, build-tools]'): void {
  writeFileSync(spec, `nixosFlake: ${fx.nixosFlake}
sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStub run-${RUN}"]
defaults: { memory: 512MiB, vcpus: 1, diskSize: 256MiB }
guests:
  n1: { testSuites: [fstests], storage: { /mnt/test: { device: /dev/vdb, size: 16MiB, fsType: xfs, autoFormat: true } } }
  n2: { testSuites: [fstests], storage: { /mnt/test: { device: /dev/vdb, size: 16MiB, fsType: xfs, autoFormat: true } } }
  n3: { profiles: ${n3Profiles} }
`);
}

describe.skipIf(skip)('flakevirt build (real nix, offline fixture flakes)', () => {
  beforeAll(() => {
    fx = nixFixture();
    spec = join(fx.dir, 'flakevirt.yaml');
    writeSpec();
  });
  afterAll(() => fx && rmSync(fx.dir, { recursive: true, force: true }));

  it('renders .flakevirt/<guest>/, locks, builds once per identical configuration, and says who shares', () => {
    const r = flakevirt('build');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^n1\s+built\s+\/nix\/store\/.*\n^n2\s+shared with n1\s+\/nix\/store\/.*\n^n3\s+built\s+/m);
    const rows = JSON.parse(flakevirt('build', '--json').stdout) as Array<{ name: string; how: string; storePath: string; image: string }>;
    expect(rows[1]!.storePath).toBe(rows[0]!.storePath);
    expect(rows[2]!.storePath).not.toBe(rows[0]!.storePath);
    expect(r.stderr).toMatch(/\[n1 [^\]]*\] shares one build with n2/);
    expect(r.stderr).toMatch(/nix: .*stand-in make-disk-image: 256 MiB qcow2 legacy, installBootLoader=1/);
    // Evaluated before it was built.
    expect(r.stderr).toMatch(/\[n1 [^\]]*\] evaluating the configuration[\s\S]*\[n1 [^\]]*\] building with nix/);
    // One nix build per distinct configuration, each through `nix build path:<dir>#image`.
    const builds = fx.calls().filter((c) => / build path:/.test(c));
    expect(builds).toHaveLength(2);
    expect(builds.every((c) => c.includes('--extra-experimental-features nix-command flakes'))).toBe(true);
    const dir = join(fx.dir, '.flakevirt', 'n1');
    for (const f of ['flake.nix', 'default.nix', 'flakevirt.nix', 'flake.lock']) expect(existsSync(join(dir, f)), f).toBe(true);
    expect(readlinkSync(join(dir, 'result'))).toBe(rows[0]!.storePath);
    expect(existsSync(rows[0]!.image)).toBe(true);
    // The system the real modules made: no identity, the user with the key, the mount by flakevirt's
    // path with its udev rule, the overlay's xfstests (nixpkgs' own no longer builds).
    const system = JSON.parse(readFileSync(join(rows[0]!.storePath, 'system.json'), 'utf8'));
    expect(system.hostName).toBe('');
    expect(system.users.kdevops).toMatchObject({ isNormalUser: true, extraGroups: ['wheel', 'kvm', 'libvirtd'], keys: [expect.stringContaining(`run-${RUN}`)] });
    expect(JSON.parse(system.fileSystems)['/mnt/test']).toMatchObject({ device: '/dev/flakevirt/vdb', fsType: 'xfs', autoFormat: true });
    expect(system.udevRules).toContain('ATTR{serial}=="fv-vdb", SYMLINK+="flakevirt/vdb"');
    expect(system.packages).toContain('xfstests-2026.03.20');
    expect(system.packages.filter((p: string) => p.startsWith('xfstests-'))).not.toContain('xfstests-2023.05.14');
  });

  it('does no nix work at all when nothing that feeds the image changed, even with result present', () => {
    const before = fx.calls().length;
    const r = flakevirt('build');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^n1\s+up to date/m);
    expect(fx.calls().slice(before).filter((c) => !/^--version$/.test(c))).toEqual([]);
  });

  it('rebuilds a guest whose profiles changed (never skipped because result exists)', () => {
    const old = JSON.parse(flakevirt('build', 'n3', '--json').stdout)[0].storePath;
    writeSpec('[devel]');
    const r = flakevirt('build', 'n3', '--json');
    expect(r.status, r.stderr).toBe(0);
    const row = JSON.parse(r.stdout)[0];
    expect(row.how).toBe('built');
    expect(row.storePath).not.toBe(old);
    expect(JSON.parse(readFileSync(join(row.storePath, 'system.json'), 'utf8')).packages).not.toContain('autoconf-1'); // build-tools' own
    writeSpec();
  });

  it('--update re-pins the nixos-flake input', () => {
    const r = flakevirt('build', 'n1', '--update');
    expect(r.status, r.stderr).toBe(0);
    expect(fx.calls().some((c) => / flake lock path:.*--update-input nixos-flake/.test(c))).toBe(true);
  });

  it('shows nix\'s own error, not a stack trace, when the build fails', () => {
    const broken = join(fx.dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(spec, 'utf8').replace(fx.nixosFlake, join(fx.dir, 'missing-flake')));
    const r = flakevirt('build', 'n3', '-f', broken);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/n3: .*(error|does not exist)/s);
    expect(r.stderr).not.toMatch(/at .*\.c?js:\d+/);
  });
});
