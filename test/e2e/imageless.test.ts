// Imageless guests (issue 23) on a real libvirtd, with real nix on the offline fixture flakes: the
// real nixos-flake imageless backend composed by flakevirt, built by the nixpkgs stand-in into a
// system closure whose boot.json, initrd and init boot for real (the stand-in's stage 1 and init
// run the tiny guest's busybox, udev and dropbear from the virtiofs store share). The kernels are
// Debian's 6.12 cloud kernels as a developer has them after make and make modules_install
// (scripts/kernel-pair.sh), booted directly, their modules loaded from the virtiofs modules share.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { e2eSkipReason, kernelPair, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';
import { nixFixture, nixosFlakeOn, upstreamMissing, type NixFixture } from '../helpers/nix.js';
import { findVirtiofsd } from '../../src/adapters/virtiofsd.js';
import { buildDomain, parseDomain } from '../../src/libvirt-xml/domain.js';

const skip = e2eSkipReason() ?? (hasCommand('nix') ? undefined : 'nix not installed') ?? upstreamMissing()
  ?? (hasCommand('ansible') ? undefined : 'ansible-core is needed')
  ?? ((await findVirtiofsd()) ? undefined : 'no virtiofsd on this host (scripts/install-virtiofsd.sh installs one)');
if (skip && !e2eSkipReason()) process.stderr.write(`skipped: ${skip}\n`);
const host = skip ? undefined : new TestHost('imgless');
let fx: NixFixture;
let spec = '';
let key = '';
let pool = '';

type Pair = ReturnType<typeof kernelPair>;
let tiny: Pair;
let other: Pair;

function writeSpec(kernelA: Pair, extra = ''): void {
  const storage = 'storage: { /mnt/test: { device: /dev/nvme0n1, size: 64MiB, fsType: ext4, autoFormat: true } }, disks: { /dev/vdb: { size: 32MiB } }';
  writeFileSync(spec, `pool: ${pool}
accel: tcg
nixosFlake: ${fx.nixosFlake}
user: kdev
sshKeyFiles: [${key}.pub]
defaults: { memory: 512MiB, vcpus: 2, profiles: [], imageless: { bzImage: ${tiny.bzImage}, modules: ${tiny.modules} } }
guests:
  il-a: { imageless: { bzImage: ${kernelA.bzImage}, modules: ${kernelA.modules} }, ${storage}, groups: [fstests] }
  il-b: { ${storage} }
${extra}`);
}

const fv = (...args: string[]) => host!.flakevirtEnv(fx.env, ...args);
const ipOf = (guest: string) => new RegExp(`^${guest}\\s+(\\S+)`, 'm').exec(fv('ips', '-f', spec).stdout)?.[1] ?? '';
/** A command in the guest as root (the spec's keys log in as root and as the user). */
function ssh(guest: string, command: string, user = 'root') {
  return host!.exec(['ssh', '-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${user}@${ipOf(guest)}`, command]);
}
const gcRoots = () => (existsSync(join(pool, '.gcroots')) ? readdirSync(join(pool, '.gcroots')).map((n) => readlinkSync(join(pool, '.gcroots', n))) : []);

describe.skipIf(skip)('imageless guests on a real libvirtd', () => {
  beforeAll(() => {
    host!.up();
    tiny = kernelPair('tiny');
    other = kernelPair('other');
    fx = nixFixture(host!.scratch, { userland: tinyGuest().initrd });
    spec = join(host!.scratch, 'flakevirt.yaml');
    pool = join(host!.scratch, 'pool');
    key = join(host!.scratch, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flakevirt-imageless', '-f', key]);
    writeSpec(tiny);
  });
  afterAll(() => host?.down());

  it('up builds one closure for two identical guests and boots each on the developer\'s kernel, from the store and modules shares', () => {
    const r = fv('up', '-f', spec, '--timeout', '180');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^il-a\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    expect(r.stdout).toMatch(/^il-b\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    expect(r.stderr).toMatch(/shares one build with il-b/);
    expect(fx.calls().filter((c) => / build path:.*#toplevel/.test(c))).toHaveLength(1);
    const closure = readlinkSync(join(host!.scratch, '.flakevirt', 'il-a', 'result'));
    const boot = JSON.parse(readFileSync(join(closure, 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'] as { init: string; initrd: string; kernel: string; kernelParams: string[] };
    const d = parseDomain(host!.virsh('dumpxml', 'il-b'))!;
    // The developer's kernel, never the nixpkgs kernel boot.json names; the closure's initrd and init.
    expect(d.os.kernel).toBe(tiny.bzImage);
    expect(d.os.kernel).not.toBe(boot.kernel);
    expect(d.os.initrd).toBe(boot.initrd);
    // boot.json's kernelParams follow: the stand-in's kernel.nix puts loglevel= there, and flakevirt
    // renders consoleLogLevel 6 (kernel reports and the banner reach the logged serial port).
    expect(boot.kernelParams).toEqual(['loglevel=6']);
    expect(d.os.cmdline).toBe(`root=tmpfs console=hvc0 console=ttyS0,115200 init=${boot.init} loglevel=6`);
    expect(d.devices.filesystems.map((f) => [f.tag, f.source, f.readonly])).toEqual([['store', '/nix/store', true], ['modules', tiny.modules, true]]);
    expect(d.memoryBacking).toMatchObject({ source: 'memfd', access: 'shared' });
    expect(d.devices.disks.map((x) => x.target.dev)).not.toContain('vda'); // no root disk: a tmpfs root
    // The closure is kept alive against nix-collect-garbage while guests boot from it.
    expect(gcRoots()).toEqual([closure]);
  });

  it('the guest runs its kernel, loads modules from the share, mounts its NVMe disk by its stable path, and cannot write the host\'s store', () => {
    expect(ssh('il-a', 'id -un', 'kdev').stdout.trim()).toBe('kdev');
    const r = ssh('il-a', 'uname -r; cut -d" " -f1 /proc/modules | sort | tr "\\n" " "; echo; mount; readlink -f /dev/flakevirt/nvme0n1; touch /nix/store/fv-probe 2>&1; echo rc=$?');
    expect(r.status, r.stderr).toBe(0);
    const [release, modules] = r.stdout.split('\n');
    expect(release).toBe(tiny.release);
    // virtio_net is =m in Debian's cloud kernel (the lease needed it), loop comes from the backend's boot.kernelModules.
    expect(modules!.split(' ')).toEqual(expect.arrayContaining(['virtio_net', 'loop']));
    expect(r.stdout).toMatch(/^tmpfs on \/ type tmpfs/m);
    expect(r.stdout).toMatch(/^store on \/nix\/store type virtiofs/m);
    expect(r.stdout).toMatch(/^modules on \/lib\/modules type virtiofs/m);
    expect(r.stdout).toMatch(/^\/dev\/flakevirt\/nvme0n1 on \/mnt\/test type ext4/m);
    expect(r.stdout).toMatch(/^\/dev\/nvme\d+n1$/m);
    expect(r.stdout).toMatch(/Read-only file system[\s\S]*rc=1/);
    expect(existsSync('/nix/store/fv-probe')).toBe(false);
  });

  it('Ansible reaches both through the dynamic inventory (a control-path directory of its own)', () => {
    const script = join(host!.scratch, 'inventory.sh');
    expect(fv('inventory', '-f', spec, '--script', script).status).toBe(0);
    const cp = mkdtempSync(join(host!.scratch, 'cp-'));
    const a = host!.exec(['env', `ANSIBLE_SSH_CONTROL_PATH_DIR=${cp}`, 'ansible', '-i', script, 'all', '-m', 'raw', '-a', 'id -un; uname -r']);
    expect(a.status, a.stdout + a.stderr).toBe(0);
    expect(a.stdout.replace(/\r/g, '').match(new RegExp(`^il-[ab] \\| CHANGED \\| rc=0 >>\\nkdev\\n${tiny.release.replace(/[.+]/g, '\\$&')}$`, 'gm'))).toHaveLength(2);
  });

  it('a second up does no nix work and changes nothing', () => {
    const before = fx.calls().length;
    const r = fv('up', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^il-a .*running and up to date/m);
    expect(r.stdout).toMatch(/^il-b .*running and up to date/m);
    expect(fx.calls().slice(before).filter((c) => c !== '--version')).toEqual([]);
  });

  it('a kernel swap restarts exactly the guest that uses it, which then runs the new kernel', () => {
    const marker = ssh('il-a', 'echo kept > /mnt/test/marker && sync && echo ok');
    expect(marker.stdout.trim()).toBe('ok');
    writeSpec(other);
    const r = fv('up', '-f', spec, '--timeout', '180');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^il-a\s+\d+\.\d+\.\d+\.\d+\s+redefined/m);
    expect(r.stdout).toMatch(/^il-b .*running and up to date/m);
    expect(r.stdout).toContain(`kernel: ${tiny.release} (`);
    expect(r.stdout).toMatch(new RegExp(`→ ${other.release.replace(/[.+]/g, '\\$&')} \\(`));
    const after = ssh('il-a', 'uname -r; cat /mnt/test/marker');
    expect(after.stdout.split('\n').slice(0, 2)).toEqual([other.release, 'kept']); // the extra disks stay
  });

  it('reimage of an imageless guest is a restart: a fresh boot and lease, its disks kept', () => {
    const bootId = ssh('il-b', 'cat /proc/sys/kernel/random/boot_id').stdout.trim();
    ssh('il-b', 'echo kept > /mnt/test/marker && sync');
    const r = fv('reimage', 'il-b', '-f', spec, '--timeout', '180');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/root overlay/);
    const now = ssh('il-b', 'cat /proc/sys/kernel/random/boot_id; cat /mnt/test/marker');
    expect(now.stdout.split('\n').slice(0, 2)).toEqual([expect.not.stringMatching(bootId), 'kept']);
  });

  it('a kernel tree: flakevirt installs its modules into a directory of its own and boots it', () => {
    // A built tree as far as flakevirt reads one: arch/x86/boot/bzImage, .config, modules.order, and a
    // Makefile standing in for kbuild's modules_install (it installs the pair's modules; a real tree
    // takes an hour to build). il-b moves to it from the default's bzImage.
    const tree = join(host!.scratch, 'linux');
    execFileSync('mkdir', ['-p', join(tree, 'arch', 'x86', 'boot')]);
    execFileSync('cp', [other.bzImage, join(tree, 'arch', 'x86', 'boot', 'bzImage')]);
    execFileSync('cp', [join(other.dir, `config-${other.release}`), join(tree, '.config')]);
    writeFileSync(join(tree, 'modules.order'), '');
    writeFileSync(join(tree, 'Makefile'), `modules_install:\n\tmkdir -p $(INSTALL_MOD_PATH)/lib/modules\n\tcp -a ${join(other.modules, other.release)} $(INSTALL_MOD_PATH)/lib/modules/\n`);
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('  il-b: { ', `  il-b: { imageless: { tree: ${tree} }, `));
    const r = fv('up', '-f', spec, 'il-b', '--timeout', '180');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/installing the modules of 6\.12\.\S+ \(make -C .*linux modules_install INSTALL_MOD_PATH=/);
    const modules = parseDomain(host!.virsh('dumpxml', 'il-b'))!.devices.filesystems.find((f) => f.tag === 'modules')!.source;
    expect(modules).toMatch(new RegExp(`^${pool}/\\.kernels/${other.release.replace(/[.+]/g, '\\$&')}-[0-9a-f]{16}/lib/modules$`));
    const now = ssh('il-b', 'uname -r; cut -d" " -f1 /proc/modules | grep -c virtio_net');
    expect(now.stdout.split('\n').slice(0, 2)).toEqual([other.release, '1']);
  });

  it('refuses, before anything is defined, a kernel without virtiofs built in, and a checkpoint', () => {
    const old = kernelPair('old');
    writeSpec(other, `  il-old: { imageless: { bzImage: ${old.bzImage}, modules: ${old.modules} } }\n`);
    const r = fv('up', '-f', spec, 'il-old');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/guests\.il-old\.imageless\.bzImage: 6\.1\.\S+ is configured with CONFIG_VIRTIO_PCI=m/);
    expect(r.stderr).toMatch(/CONFIG_VIRTIO_FS=m/);
    expect(host!.virsh('list', '--all', '--name')).not.toContain('il-old');
    writeSpec(other);
    const c = fv('checkpoint', '-f', spec, 'il-b');
    expect(c.status, c.stderr).toBe(2);
    expect(c.stderr).toMatch(/flakevirt does not checkpoint an imageless guest/);
  });

  it('the stand-in fails where the real initrd fails: a command line without root=tmpfs has nothing to switch to', async () => {
    // il-b's definition as flakevirt wrote it, under another name, without its disks, root=tmpfs dropped.
    const d = parseDomain(host!.virsh('dumpxml', '--inactive', 'il-b'))!;
    d.name = 'il-noroot';
    delete d.uuid;
    d.metadata = {};
    d.devices.disks = [];
    d.qemuArgs = [];
    d.devices.interfaces = [];
    d.os.cmdline = d.os.cmdline!.replace('root=tmpfs ', '');
    const log = join(host!.scratch, 'noroot.log');
    d.devices.serials[0]!.log = { file: log, append: 'off' };
    writeFileSync(join(host!.scratch, 'noroot.xml'), buildDomain(d));
    host!.virsh('define', join(host!.scratch, 'noroot.xml'));
    host!.virsh('start', 'il-noroot');
    let seen = '';
    for (const end = Date.now() + 90_000; Date.now() < end && !/stand-in stage 1: stopped/.test(seen); await new Promise((r) => setTimeout(r, 500))) {
      seen = existsSync(log) ? readFileSync(log, 'utf8') : '';
    }
    host!.virsh('destroy', 'il-noroot');
    host!.virsh('undefine', 'il-noroot');
    expect(seen).toMatch(/stand-in stage 1: no root= on the kernel command line: nothing to switch to/);
  });

  it('down takes the guests and then the closure\'s GC root, never the store path itself', () => {
    const closure = gcRoots()[0]!;
    const r = fv('down', '--all', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
    expect(gcRoots()).toEqual([]);
    expect(existsSync(closure)).toBe(true);
    // The modules installed from the tree went with the last guest that shared them.
    expect(existsSync(join(pool, '.kernels')) ? readdirSync(join(pool, '.kernels')) : []).toEqual([]);
    expect(r.stderr).toMatch(/removed .*\/\.kernels\/6\.12\.\S+ from host local \(no guest uses it\)/);
  });
});

// The same with a real nixos-flake imageless closure (systemd stage 1, systemd, networkd, OpenSSH),
// where there is a network to build one: set FLAKEVIRT_NIXOS_FLAKE (a nixos-flake checkout) and
// FLAKEVIRT_NIXPKGS (a nixpkgs checkout, e.g. nixos-26.05) on a host with nix, libvirt and virtiofsd.
const realSkip = process.env.FLAKEVIRT_NIXOS_FLAKE && process.env.FLAKEVIRT_NIXPKGS ? e2eSkipReason()
  : 'set FLAKEVIRT_NIXOS_FLAKE and FLAKEVIRT_NIXPKGS to checkouts of nixos-flake and nixpkgs (a networked host) to boot a real imageless closure';
if (realSkip) process.stderr.write(`skipped: ${realSkip}\n`);
describe.skipIf(realSkip)('a real nixos-flake imageless closure (opt-in)', () => {
  it('boots the 6.12 cloud kernel from the store share, gets a lease, and answers ssh with the spec\'s key', () => {
    const real = new TestHost('ilreal');
    real.up();
    try {
      const pairReal = kernelPair('tiny');
      const k = join(real.scratch, 'id_ed25519');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
      const flake = nixosFlakeOn(process.env.FLAKEVIRT_NIXOS_FLAKE!, join(real.scratch, 'nixos-flake'), process.env.FLAKEVIRT_NIXPKGS!);
      const file = join(real.scratch, 'flakevirt.yaml');
      writeFileSync(file, `pool: ${join(real.scratch, 'pool')}\nnixosFlake: ${flake}\nuser: kdev\nsshKeyFiles: [${k}.pub]\nguests:\n  ilr: { memory: 2GiB, vcpus: 2, profiles: [], imageless: { bzImage: ${pairReal.bzImage}, modules: ${pairReal.modules} } }\n`);
      const up = real.flakevirt('up', '-f', file, '--wait', 'ssh', '--timeout', '3600');
      expect(up.status, up.stderr).toBe(0);
      const ip = /^ilr\s+(\S+)/m.exec(real.flakevirt('ips', '-f', file).stdout)![1]!;
      const r = real.exec(['ssh', '-i', k, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `root@${ip}`, 'uname -r; findmnt -no FSTYPE /; findmnt -no SOURCE /nix/store']);
      expect(r.stdout.trim().split('\n')).toEqual([pairReal.release, 'tmpfs', 'store']);
      real.flakevirt('down', '--all', '-f', file);
    } finally {
      real.down();
    }
  }, 60 * 60_000);
});
