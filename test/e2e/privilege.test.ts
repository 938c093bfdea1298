// Privilege boundaries: flakevirt runs as root, so nothing an unprivileged local user can write may
// steer it. Each attack is made by a real unprivileged user (created by the test); the test asserts
// that the planted thing had no effect (victim file unchanged in content, owner and mode; no
// command ran) and that flakevirt refused with a clear message or ignored it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { attackerSkipReason, localUser, type LocalUser } from '../helpers/attacker.js';
import { hasCommand } from '../helpers/tools.js';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { specCachePath } from '../../src/spec/load.js';
import { fakeBzImage } from '../helpers/bzimage.js';
import { copyOfDist, forgedCache } from '../helpers/dist-copy.js';
import { CODE_CACHE } from '../../src/launch.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPriv me@host';
const skip = attackerSkipReason();
let mallory: LocalUser;
let root = '';

function fv(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, env: { ...process.env, LIBVIRT_DEFAULT_URI: 'test:///default' } });
}
/** A file root cares about, and a snapshot of it (content, owner, mode). */
function victim(): { path: string; same(): boolean } {
  const path = join(root, `victim-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, 'precious\n', { mode: 0o644 });
  const was = () => { const st = lstatSync(path); return `${readFileSync(path, 'utf8')}|${st.uid}|${st.mode}`; };
  const before = was();
  return { path, same: () => was() === before };
}
/** A directory the unprivileged user owns (a shared checkout, a scratch area). */
function malloryDir(): string {
  const d = mkdtempSync(join(root, 'mallory-'));
  chownSync(d, mallory.uid, mallory.gid);
  chmodSync(d, 0o755);
  return d;
}

describe.skipIf(skip)('what an unprivileged user can write does not steer root-run flakevirt', () => {
  beforeAll(() => {
    mallory = localUser('fvattacker');
    root = mkdtempSync('/var/tmp/flakevirt-priv-');
    chmodSync(root, 0o755);
  });
  afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

  it('a code cache the user can write (a build under a lax umask) is not compiled with: the user forges one whose digest matches, root ignores it', () => {
    const copy = copyOfDist(true, root);
    chmodSync(copy, 0o755);
    const cache = join(copy, 'dist', CODE_CACHE);
    chmodSync(cache, 0o666);
    const forged = join(malloryDir(), 'forged');
    writeFileSync(forged, forgedCache(copy));
    chmodSync(forged, 0o644);
    expect(mallory.run(['cp', forged, cache]).status).toBe(0);
    const r = spawnSync(process.execPath, [join(copy, 'dist', 'cli.js'), '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0.0.0-copy');
    // The control: the same bytes in a file only root can write are handed to V8, which crashes on them.
    chmodSync(cache, 0o644);
    expect(spawnSync(process.execPath, [join(copy, 'dist', 'cli.js'), '--version'], { encoding: 'utf8', timeout: 20_000 }).status).not.toBe(0);
  });

  it('a planted symlink in .flakevirt/<guest>/ next to a spec in a directory the user owns: build refuses, the target is untouched', () => {
    if (!hasCommand('nix')) return void process.stderr.write('skipped: nix not installed\n');
    const dir = malloryDir();
    const v = victim();
    writeFileSync(join(dir, 'flakevirt.yaml'), `sshKeys: ["${KEY}"]\nnixosFlake: /nonexistent\nguests:\n  g: {}\n`);
    for (const a of [['mkdir', '-p', join(dir, '.flakevirt', 'g')], ['ln', '-s', v.path, join(dir, '.flakevirt', 'g', 'flake.nix')], ['ln', '-s', v.path, join(dir, '.flakevirt', 'g', 'flake.lock')]]) {
      expect(mallory.run(a).status).toBe(0);
    }
    const r = fv(dir, 'build');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\.flakevirt belongs to uid \d+, not to uid 0 who runs flakevirt/);
    expect(v.same()).toBe(true);
    // Without anything planted, a spec directory the user owns is refused too: they could swap .flakevirt.
    const dir2 = malloryDir();
    writeFileSync(join(dir2, 'flakevirt.yaml'), `sshKeys: ["${KEY}"]\nnixosFlake: /nonexistent\nguests:\n  g: {}\n`);
    const r2 = fv(dir2, 'build');
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/\.flakevirt is in .*mallory-\w+, which belongs to uid \d+/);
  });

  it('a spec cache entry rewritten through a directory the user was given is never trusted', () => {
    const dir = mkdtempSync(join(root, 'spec-'));
    const spec = join(dir, 'flakevirt.yaml');
    writeFileSync(spec, `sshKeys: ["${KEY}"]\nguests:\n  cached: { memory: 1GiB }\n`);
    expect(fv(dir, 'validate').status).toBe(0);
    const file = specCachePath(spec);
    const cacheDir = join(file, '..');
    const entry = JSON.parse(readFileSync(file, 'utf8'));
    entry.fleet.guests[0].memoryBytes = 7;
    entry.fleet.guests[0].name = '../../../etc';
    const owner = statSync(cacheDir);
    chownSync(cacheDir, mallory.uid, mallory.gid);
    try {
      writeFileSync(join(root, 'planted.json'), JSON.stringify(entry));
      // The directory is theirs: they may replace root's entry with their own.
      expect(mallory.run(['sh', '-c', 'rm -f "$1" && cp "$2" "$1"', 'sh', file, join(root, 'planted.json')]).status).toBe(0);
      const r = fv(dir, 'validate', '--json');
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).guests).toEqual(['cached']);
      expect(r.stderr).toMatch(/no spec cache: .*spec-cache belongs to uid/);
    } finally {
      chownSync(cacheDir, owner.uid, owner.gid);
      rmSync(file, { force: true });
    }
  });

  it('the cache areas (host facts, image info, QEMU properties, domain facts, live network, kernel content, nix version, kernel health) are root\'s own, and one handed to the user is not believed', async () => {
    const { areaDir, cachedJson } = await import('../../src/adapters/file-cache.js');
    for (const area of ['host-facts', 'image-info', 'qemu-props', 'domain-facts', 'live-network', 'kernel-content', 'nix-version', 'kernel-health']) {
      const dir = areaDir(area)!;
      expect(dir, area).toBeDefined();
      expect(statSync(dir).uid).toBe(0);
      expect(statSync(dir).mode & 0o777, area).toBe(0o700);
      expect(mallory.run(['sh', '-c', 'echo x > "$1/planted.json"', 'sh', dir]).status, area).not.toBe(0);
    }
    // Given the live network's area, the user plants another bridge for root's key: not read.
    const key = `priv-test-${Math.random().toString(36).slice(2)}`;
    const right = { bridge: 'virbr0' };
    expect(await cachedJson('live-network', key, async () => right)).toEqual(right);
    const dir = areaDir('live-network')!;
    const file = join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
    expect(existsSync(file)).toBe(true);
    writeFileSync(join(root, 'planted-net.json'), JSON.stringify({ key, value: { bridge: 'evil0' } }));
    const owner = statSync(dir);
    chownSync(dir, mallory.uid, mallory.gid);
    try {
      expect(mallory.run(['sh', '-c', 'rm -f "$1" && cp "$2" "$1"', 'sh', file, join(root, 'planted-net.json')]).status).toBe(0);
      let computed = false;
      expect(await cachedJson('live-network', key, async () => { computed = true; return right; })).toEqual(right);
      expect(computed).toBe(true);
    } finally {
      chownSync(dir, owner.uid, owner.gid);
      rmSync(file, { force: true });
    }
  });

  it('an imageless guest\'s kernel tree the user owns is refused before make modules_install could run their Makefile as root', () => {
    const dir = malloryDir();
    const tree = join(dir, 'linux');
    const v = victim();
    writeFileSync(join(root, 'bz'), fakeBzImage('6.13.0 #1'));
    for (const a of [['mkdir', '-p', join(tree, 'arch', 'x86', 'boot')], ['cp', join(root, 'bz'), join(tree, 'arch', 'x86', 'boot', 'bzImage')], ['sh', '-c', `printf 'modules_install:\\n\\tcp /dev/null ${v.path}\\n' > ${tree}/Makefile`]]) {
      expect(mallory.run(a).status, a.join(' ')).toBe(0);
    }
    writeFileSync(join(root, 'tree.yaml'), `sshKeys: ["${KEY}"]\nguests:\n  g: { imageless: { tree: ${tree} } }\n`);
    const r = fv(root, '-f', join(root, 'tree.yaml'), 'up');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/guests\.g\.imageless\.tree: .*belongs to uid \d+; flakevirt runs make modules_install in the tree as root/);
    expect(v.same()).toBe(true);
  });

  it('inventory --script and ssh-config --write refuse a directory the user can write, leaving a planted symlink\'s target alone', () => {
    const dir = mkdtempSync(join(root, 'spec-'));
    writeFileSync(join(dir, 'flakevirt.yaml'), `sshKeys: ["${KEY}"]\nguests:\n  g: { image: ${tinyGuestBase()} }\n`);
    const out = malloryDir();
    const v = victim();
    expect(mallory.run(['ln', '-s', v.path, join(out, 'inventory.sh')]).status).toBe(0);
    const r = fv(dir, 'inventory', '--script', join(out, 'inventory.sh'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mallory-\w+ belongs to uid \d+/);
    expect(v.same()).toBe(true);
    expect(mallory.run(['ln', '-s', v.path, join(out, 'ssh.conf')]).status).toBe(0);
    const s = fv(dir, 'ssh-config', '--write', '--output', join(out, 'ssh.conf'));
    expect(s.status).toBe(1);
    expect(v.same()).toBe(true);
    // In a directory of root's own, a symlink planted earlier is replaced, never followed.
    const mine = mkdtempSync(join(root, 'out-'));
    spawnSync('ln', ['-s', v.path, join(mine, 'inventory.sh')]);
    expect(fv(dir, 'inventory', '--script', join(mine, 'inventory.sh')).status).toBe(0);
    expect(v.same()).toBe(true);
    const st = lstatSync(join(mine, 'inventory.sh'));
    expect([st.isFile(), st.uid, st.mode & 0o777]).toEqual([true, 0, 0o755]);
  });

  it('ssh connection sharing refuses a control directory another user made for the victim', () => {
    const victimUser = localUser('fvvictim');
    const dir = `/tmp/flakevirt-ssh-${victimUser.uid}`;
    rmSync(dir, { recursive: true, force: true });
    expect(mallory.run(['mkdir', '-m', '0777', dir]).status).toBe(0);
    try {
      // ssh -G prints the configuration it would use and connects nowhere.
      const r = victimUser.run(['sh', join(REPO_ROOT, 'scripts', 'ssh-mux.sh'), '-G', 'localhost']);
      expect(r.status).toBe(255);
      expect(r.stderr).toMatch(/is not a directory of uid \d+ with mode 700/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Root's sockets live in /run/flakevirt/ssh, which no other user can create or enter.
    const g = spawnSync('sh', [join(REPO_ROOT, 'scripts', 'ssh-mux.sh'), '-G', 'localhost'], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: '' } });
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/^controlpath \/run\/flakevirt\/ssh\//m);
    expect(statSync('/run/flakevirt/ssh').mode & 0o777).toBe(0o700);
  });

  it('init in a shared sticky directory writes neither over nor through what the user put there first', () => {
    const shared = mkdtempSync(join(root, 'tmp-'));
    chmodSync(shared, 0o1777);
    const v = victim();
    // A symlink to root's file where init would write, and a file of the user's own under another name.
    expect(mallory.run(['ln', '-s', v.path, join(shared, 'flakevirt.yaml')]).status).toBe(0);
    expect(mallory.run(['sh', '-c', `echo 'guests: { evil: { image: /dev/sda } }' > ${join(shared, 'other.yaml')}`]).status).toBe(0);
    const r = fv(shared, 'init');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/flakevirt\.yaml exists; flakevirt init never overwrites a file/);
    expect(v.same()).toBe(true);
    expect(lstatSync(join(shared, 'flakevirt.yaml')).isSymbolicLink()).toBe(true);
    const o = fv(shared, 'init', '-f', 'other.yaml');
    expect(o.status).toBe(2);
    expect(readFileSync(join(shared, 'other.yaml'), 'utf8')).toContain('evil');
    expect(lstatSync(join(shared, 'other.yaml')).uid).toBe(mallory.uid);
    // A name nobody took: root's own file, 0644, which the user cannot change or remove (sticky).
    expect(fv(shared, 'init', '-f', 'mine.yaml').status).toBe(0);
    const st = lstatSync(join(shared, 'mine.yaml'));
    expect([st.isFile(), st.uid, st.mode & 0o777]).toEqual([true, 0, 0o644]);
    expect(mallory.run(['rm', '-f', join(shared, 'mine.yaml')]).status).not.toBe(0);
    expect(mallory.run(['sh', '-c', `echo x >> ${join(shared, 'mine.yaml')}`]).status).not.toBe(0);
  });

  it('a pool in a directory the user owns is refused before anything is made in it', () => {
    const parent = malloryDir();
    const dir = mkdtempSync(join(root, 'spec-'));
    writeFileSync(join(dir, 'flakevirt.yaml'), `sshKeys: ["${KEY}"]\npool: ${join(parent, 'pool')}\nhosts: { local: { connect: "test:///default", memory: 1GiB } }\ndefaults: { memory: 128MiB, vcpus: 1 }\nguests:\n  g: { image: ${tinyGuestBase()} }\n`);
    // The pool directory itself is made and checked before the placement record goes into it.
    const r = fv(dir, 'up', '--timeout', '5');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/pool is in .*mallory-\w+, which belongs to uid \d+/);
    expect(existsSync(join(parent, 'pool', '.placement.json'))).toBe(false);
  });
});

/** An existing system user (the QEMU user libvirt runs guests as), run as with setpriv. */
function localUserNamed(name: string): LocalUser {
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid, gid, run: (args) => { const r = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', ...args], { encoding: 'utf8' }); return { status: r.status, stdout: r.stdout, stderr: r.stderr }; } };
}

/** Any readable qcow2 file for specs that need an image (validation checks it exists). */
function tinyGuestBase(): string {
  const f = join(root, 'base.qcow2');
  if (!existsSync(f)) spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', f, '16M']);
  return f;
}

// On a real host: disks are not readable by other users; down --all leaves another spec's guests.
const hostSkip = skip ?? e2eSkipReason();
const host = hostSkip ? undefined : new TestHost('priv');
describe.skipIf(hostSkip)('privilege boundaries on a real libvirt host', () => {
  beforeAll(() => { host!.up(); mallory ??= localUser('fvattacker'); });
  afterAll(() => host?.down());

  it('guest disks are not readable by other users, and down --all takes only what its spec made', () => {
    const g = tinyGuest();
    const boot = `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
    const pool = join(host!.scratch, 'pool');
    const specA = join(host!.scratch, 'a.yaml');
    const specB = join(host!.scratch, 'b.yaml');
    writeFileSync(specA, `pool: ${pool}\naccel: tcg\ndefaults: { memory: 384MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n  pa: { ${boot}, disks: { /dev/vdb: { size: 16MiB, format: qcow2 }, /dev/nvme0n1: { size: 16MiB } } }\n`);
    writeFileSync(specB, `pool: ${pool}\naccel: tcg\ndefaults: { memory: 384MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n  pb: { ${boot} }\n`);
    for (const s of [specA, specB]) {
      const r = host!.flakevirt('up', '-f', s, '--timeout', '120');
      expect(r.status, r.stderr).toBe(0);
    }
    for (const f of ['root.qcow2', 'vdb.qcow2', 'nvme0n1.raw']) {
      const path = join(pool, 'pa', f);
      expect(statSync(path).mode & 0o077, f).toBe(0);
      expect(mallory.run(['cat', path]).status, f).not.toBe(0);
    }
    // The console log that list and health read as root: neither the user nor the QEMU user (a guest's
    // compromised QEMU) can put a symlink or a FIFO in its place, or read it.
    const log = join(pool, 'pa', 'console.log');
    const qemuUser = localUserNamed('libvirt-qemu');
    for (const who of [mallory, qemuUser]) {
      expect(who.run(['ln', '-sf', '/etc/shadow', log]).status, who.name).not.toBe(0);
      expect(who.run(['mkfifo', `${log}.x`]).status, who.name).not.toBe(0);
      expect(who.run(['mv', log, `${log}.moved`]).status, who.name).not.toBe(0);
    }
    expect(mallory.run(['cat', log]).status).not.toBe(0);
    expect(lstatSync(log).isFile()).toBe(true);
    const down = host!.flakevirt('down', '--all', '-f', specA);
    expect(down.status, down.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('pb');
    expect(existsSync(join(pool, 'pb'))).toBe(true);
    expect(host!.flakevirt('down', '--all', '-f', specB).status).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });
});
