// spec → nix build → overlay → running guest with a lease, on a real libvirtd, with real nix on the
// offline fixture flakes. The fixture image is an empty qcow2, so the guest boots the tiny Debian
// kernel directly (kernel:/initrd:) on top of the Nix-built root disk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';
import { nixFixture, upstreamMissing, type NixFixture } from '../helpers/nix.js';

const skip = e2eSkipReason() ?? (hasCommand('nix') ? undefined : 'nix not installed') ?? upstreamMissing();
const host = skip ? undefined : new TestHost('nixup');
const RUN = `${Date.now()}-${process.pid}`;
let fx: NixFixture;
let spec = '';
let pool = '';

function writeSpec(nu2Profiles = '[devel]'): void {
  const g = tinyGuest();
  const boot = `kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
  writeFileSync(spec, `pool: ${pool}
accel: tcg
nixosFlake: ${fx.nixosFlake}
sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStub run-${RUN}"]
defaults: { memory: 384MiB, vcpus: 1, diskSize: 512MiB }
guests:
  nu-1: { ${boot}, disks: { /dev/vdb: { size: 16MiB } } }
  nu-2: { ${boot}, profiles: ${nu2Profiles}, disks: { /dev/vdb: { size: 16MiB } } }
`);
}

const fv = (...args: string[]) => host!.flakevirtEnv(fx.env, ...args);
const gcRoots = () => (existsSync(join(pool, '.gcroots')) ? readdirSync(join(pool, '.gcroots')).map((n) => readlinkSync(join(pool, '.gcroots', n))) : []);
const dead = () => execFileSync('nix-store', ['--gc', '--print-dead'], { encoding: 'utf8', env: { ...process.env, ...fx.env }, stdio: ['ignore', 'pipe', 'ignore'] });

describe.skipIf(skip)('Nix-built guests on a real libvirtd', () => {
  beforeAll(() => {
    host!.up();
    fx = nixFixture(host!.scratch);
    spec = join(host!.scratch, 'flakevirt.yaml');
    pool = join(host!.scratch, 'pool');
    writeSpec();
  });
  afterAll(() => host?.down());

  it('up builds one image for two identical guests, boots both on overlays of it, and keeps it alive', () => {
    const r = fv('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[nu-1 [^\]]*\] shares one build with nu-2/);
    expect(r.stdout).toMatch(/^nu-1\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    expect(r.stdout).toMatch(/^nu-2\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    expect(fx.calls().filter((c) => / build path:/.test(c))).toHaveLength(1);
    const store = readlinkSync(join(host!.scratch, '.flakevirt', 'nu-1', 'result'));
    const xml = host!.virsh('dumpxml', 'nu-2');
    expect(xml).toContain(`<source file='${store}/nixos.qcow2'`);
    // The overlay records its backing file and format; libvirt did not chown the store file.
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', join(pool, 'nu-1', 'root.qcow2')], { encoding: 'utf8' }));
    expect([info['backing-filename'], info['backing-filename-format']]).toEqual([`${store}/nixos.qcow2`, 'qcow2']);
    const st = statSync(`${store}/nixos.qcow2`);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o444]);
    // One GC root per base image; nix-collect-garbage would keep it.
    expect(gcRoots()).toEqual([store]);
    expect(dead()).not.toContain(store);
  });

  it('a second up does no nix work and changes nothing', () => {
    const before = fx.calls().length;
    const r = fv('up', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^nu-1 .*running and up to date/m);
    expect(r.stdout).toMatch(/^nu-2 .*running and up to date/m);
    expect(fx.calls().slice(before).filter((c) => c !== '--version')).toEqual([]);
  });

  it('changing a profile rebuilds that guest\'s image and reboots it on a fresh overlay', () => {
    const oldStore = gcRoots()[0]!;
    writeSpec('[devel, build-tools]');
    const r = fv('up', '-f', spec, '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^nu-1 .*running and up to date/m);
    expect(r.stdout).toMatch(/^nu-2\s+\d+\.\d+\.\d+\.\d+\s+redefined/m);
    expect(r.stdout).toMatch(/changed: base: nix:\S+ → nix:\S+/);
    const newStore = readlinkSync(join(host!.scratch, '.flakevirt', 'nu-2', 'result'));
    expect(newStore).not.toBe(oldStore);
    const pkgs = (store: string) => (JSON.parse(readFileSync(join(store, 'system.json'), 'utf8')) as { packages: string[] }).packages;
    expect(pkgs(newStore).some((p) => p.startsWith('xnvme-'))).toBe(true); // devel's, from the overlay
    expect(pkgs(newStore)).toContain('autoconf-1'); // build-tools'
    expect(pkgs(oldStore)).not.toContain('autoconf-1');
    expect(gcRoots().sort()).toEqual([oldStore, newStore].sort());
  });

  it('down drops a base image\'s GC root when its last guest goes, never collecting garbage itself', () => {
    const [rootA, rootB] = [readlinkSync(join(host!.scratch, '.flakevirt', 'nu-1', 'result')), readlinkSync(join(host!.scratch, '.flakevirt', 'nu-2', 'result'))];
    expect(fv('down', 'nu-2', '-f', spec).status).toBe(0);
    expect(gcRoots()).toEqual([rootA]);
    expect(existsSync(rootB)).toBe(true); // still in the store: flakevirt never runs a garbage collection
    expect(fv('down', '--all', '-f', spec).status).toBe(0);
    expect(gcRoots()).toEqual([]);
  });
});
