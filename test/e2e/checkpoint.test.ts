// Checkpoint and reset on a real guest (QEMU 10 under TCG, 2 vCPUs, a qcow2 virtio disk): after a
// reset the guest is in the same boot (boot id, uptime) with the disk contents of the checkpoint,
// ssh and Ansible reach it at once, and every failure mode leaves one consistent state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, killWhen, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';

const skip = e2eSkipReason() ?? (hasCommand('ssh') && hasCommand('ansible') ? undefined : 'openssh-client and ansible-core are needed');
const host = skip ? undefined : new TestHost('ckpt');
let spec = '';
let key = '';
let ip = '';

function guestSh(cmd: string): string {
  const r = host!.exec(['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', `root@${ip}`, cmd]);
  if (r.status !== 0) throw new Error(`guest: ${cmd}: ${r.stderr}`);
  return r.stdout.trim();
}
// Raw blocks on the root disk (the tiny guest runs from its initramfs, so /dev/vda is not mounted)
// and on the extra disk: what a test writes after the checkpoint.
const ROOT_BLOCK = 'dd if=/dev/vda bs=4096 skip=200000 count=1 2>/dev/null | md5sum';
const DISK_BLOCK = 'dd if=/dev/vdb bs=4096 skip=10 count=1 2>/dev/null | md5sum';
const scribble = 'dd if=/dev/urandom of=/dev/vda bs=4096 seek=200000 count=1 conv=fsync 2>/dev/null; dd if=/dev/urandom of=/dev/vdb bs=4096 seek=10 count=1 conv=fsync 2>/dev/null; sync';
const state = () => ({ bootId: guestSh('cat /proc/sys/kernel/random/boot_id'), uptime: Number(guestSh('cut -d" " -f1 /proc/uptime')), root: guestSh(ROOT_BLOCK), disk: guestSh(DISK_BLOCK) });
const monitor = (cmd: string) => host!.virsh('qemu-monitor-command', '--hmp', 'cp-a', cmd);
const ourTags = () => [...monitor('info snapshots').matchAll(/\b(fv-[a-z0-9-]+)\b/g)].map((m) => m[1]!).sort();
const checkpoints = () => JSON.parse(host!.flakevirt('checkpoints', '-f', spec, '--json').stdout) as Array<{ guest: string; name: string; tag: string }>;

describe.skipIf(skip)('checkpoint and reset on a real guest', () => {
  beforeAll(() => {
    host!.up();
    key = join(host!.scratch, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const g = tinyGuest();
    const boot = `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
    spec = join(host!.scratch, 'flakevirt.yaml');
    writeFileSync(spec, `pool: ${join(host!.scratch, 'pool')}
accel: tcg
sshKeyFiles: [${key}.pub]
defaults: { memory: 384MiB, vcpus: 2, diskSize: 1GiB }
guests:
  cp-a: { ${boot}, disks: { /dev/vdb: { size: 16MiB, format: qcow2 } } }
  cp-n: { ${boot}, disks: { /dev/nvme0n1: { size: 16MiB, format: qcow2 } } }
  cp-r: { ${boot}, disks: { /dev/vdb: { size: 16MiB } } }
`);
  });
  afterAll(() => host?.down());

  it('refuses what cannot have a checkpoint before asking any host (exit 2, naming the field and the fix)', () => {
    const n = host!.flakevirt('checkpoint', '-f', spec, 'cp-n', 'cp-r');
    expect(n.status).toBe(2);
    expect(n.stderr).toMatch(/guests\.cp-n\.disks\.\/dev\/nvme0n1: QEMU's NVMe controller cannot save its state \(hw\/nvme\/ctrl\.c/);
    expect(n.stderr).toMatch(/guests\.cp-r\.disks\.\/dev\/vdb\.format: a raw disk cannot hold a checkpoint .*set format: qcow2/);
    const bad = host!.flakevirt('checkpoint', '-f', spec, 'cp-a', '--name', 'x;quit');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--name: "x;quit" is not a checkpoint name/);
    const undefinedGuest = host!.flakevirt('reset', '-f', spec, 'cp-a');
    expect(undefinedGuest.status).toBe(1);
    expect(undefinedGuest.stderr).toMatch(/cp-a is not defined; run "flakevirt up cp-a" first/);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });

  it('reset without a checkpoint exits 1 and names the command that makes one', () => {
    const up = host!.flakevirt('up', '-f', spec, 'cp-a', '--wait', 'ssh', '--timeout', '180');
    expect(up.status, up.stderr).toBe(0);
    ip = /cp-a\s+(\d+\.\d+\.\d+\.\d+)/.exec(up.stdout)![1]!;
    const r = host!.flakevirt('reset', '-f', spec, 'cp-a');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cp-a has no checkpoint named default; take one with "flakevirt checkpoint cp-a"/);
  });

  it('after reset the guest is in the same boot with the checkpoint\'s root and extra disk, and ssh and Ansible reach it at once', () => {
    const at = state();
    const c = host!.flakevirt('checkpoint', '-f', spec, 'cp-a');
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/cp-a\s+-\s+checkpoint default taken \(memory \d+/);
    // Time passes in the guest after the checkpoint: its uptime after the reset must be below this.
    guestSh(`${scribble}; sleep 4`);
    const dirty = state();
    expect(dirty.root).not.toBe(at.root);
    expect(dirty.disk).not.toBe(at.disk);
    const r = host!.flakevirt('reset', '-f', spec, 'cp-a', '--wait', 'ssh');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`cp-a\\s+${ip.replace(/\./g, '\\.')}\\s+reset to checkpoint default`));
    expect(r.stderr).toMatch(/ssh answers: SSH-2\.0-dropbear/);
    const after = state();
    expect(after.root).toBe(at.root);
    expect(after.disk).toBe(at.disk);
    expect(after.bootId).toBe(at.bootId);
    // The clock went back with the memory: no boot happened, and less time has passed than before the reset.
    expect(after.uptime, JSON.stringify({ at, dirty, after })).toBeLessThan(dirty.uptime);
    expect(after.uptime).toBeGreaterThanOrEqual(at.uptime);
    expect(host!.flakevirt('ips', '-f', spec).stdout).toContain(`cp-a ${ip}`);
    // Ansible through the dynamic inventory, with a control-path directory of its own (no reused master).
    const script = join(host!.scratch, 'inventory.sh');
    expect(host!.flakevirt('inventory', '-f', spec, '--script', script).status).toBe(0);
    const cp = mkdtempSync(join(host!.scratch, 'cp-'));
    const a = host!.exec(['env', `ANSIBLE_SSH_CONTROL_PATH_DIR=${cp}`, 'ansible', '-i', script, 'cp-a', '-m', 'raw', '-a', 'cat /proc/sys/kernel/random/boot_id']);
    expect(a.status, a.stdout + a.stderr).toBe(0);
    expect(a.stdout.replace(/\r/g, '')).toContain(at.bootId);
  });

  it('lists checkpoints, keeps one per name, and leaves no snapshot no record names', () => {
    expect(host!.flakevirt('checkpoint', '-f', spec, 'cp-a', '--name', 'second').status).toBe(0);
    const before = checkpoints();
    expect(before.map((c) => `${c.guest}/${c.name}`).sort()).toEqual(['cp-a/default', 'cp-a/second']);
    const again = host!.flakevirt('checkpoint', '-f', spec, 'cp-a');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/replacing the one taken/);
    const after = checkpoints();
    expect(after.find((c) => c.name === 'default')!.tag).not.toBe(before.find((c) => c.name === 'default')!.tag);
    expect(ourTags()).toEqual(after.map((c) => c.tag).sort());
    const table = host!.flakevirt('checkpoints', '-f', spec);
    expect(table.stdout).toMatch(/^GUEST\s+CHECKPOINT\s+TAKEN\ncp-a\s+second\s+\d{4}-\d\d-\d\dT.*\ncp-a\s+default\s+/m);
  });

  it('a checkpoint whose snapshot is gone from the disks: a clear error, nothing restored, the record dropped', () => {
    const second = checkpoints().find((c) => c.name === 'second')!;
    monitor(`delvm ${second.tag}`);
    guestSh(scribble);
    const dirty = state();
    const r = host!.flakevirt('reset', '-f', spec, 'cp-a', '--name', 'second');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/checkpoint second is gone from its disks .*nothing was restored/);
    expect(host!.virsh('domstate', 'cp-a').trim()).toBe('running');
    expect(state()).toMatchObject({ bootId: dirty.bootId, root: dirty.root, disk: dirty.disk });
    expect(checkpoints().map((c) => c.name)).toEqual(['default']);
  });

  it('a guest that powered off is reset too (a new QEMU, loaded before its CPUs run)', () => {
    const at = checkpoints();
    host!.virsh('destroy', 'cp-a');
    const r = host!.flakevirt('reset', '-f', spec, 'cp-a', '--wait', 'ssh', '--timeout', '60');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/starting shut off guest paused/);
    expect(host!.virsh('domstate', 'cp-a').trim()).toBe('running');
    expect(checkpoints()).toEqual(at);
    // `up` takes it as it is: the live boot record is the checkpoint's boot.
    const up = host!.flakevirt('up', '-f', spec, 'cp-a');
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/running and up to date/);
  });

  it('SIGKILL while a checkpoint is taken: the next run converges, with no snapshot left over', async () => {
    const child = host!.spawnFlakevirt('checkpoint', '-f', spec, 'cp-a', '--name', 'killed');
    await killWhen(child, /saving memory and disks/);
    // Whatever the kill left (the new snapshot without its record, or both), a new take converges.
    const again = host!.flakevirt('checkpoint', '-f', spec, 'cp-a', '--name', 'killed');
    expect(again.status, again.stderr).toBe(0);
    expect(ourTags()).toEqual(checkpoints().map((c) => c.tag).sort());
    const r = host!.flakevirt('reset', '-f', spec, 'cp-a', '--name', 'killed');
    expect(r.status, r.stderr).toBe(0);
  });

  it('SIGKILL while a reset loads: running reset again gives exactly the checkpoint', async () => {
    const r0 = host!.flakevirt('reset', '-f', spec, 'cp-a', '--name', 'killed');
    expect(r0.status, r0.stderr).toBe(0);
    const at = state();
    guestSh(scribble);
    const child = host!.spawnFlakevirt('reset', '-f', spec, 'cp-a', '--name', 'killed');
    await killWhen(child, /loading checkpoint killed/);
    const r = host!.flakevirt('reset', '-f', spec, 'cp-a', '--name', 'killed', '--wait', 'ssh');
    expect(r.status, r.stderr).toBe(0);
    expect(host!.virsh('domstate', 'cp-a').trim()).toBe('running');
    expect(state()).toMatchObject({ bootId: at.bootId, root: at.root, disk: at.disk });
  });

  it('reimage drops the checkpoints (a new root cannot take the old memory), saying so', () => {
    const r = host!.flakevirt('reimage', '-f', spec, 'cp-a', '--timeout', '180');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/checkpoints default, killed dropped: its root disk was replaced/);
    expect(checkpoints()).toEqual([]);
    expect(ourTags()).toEqual([]);
  });

  it('down removes the guest with its checkpoints', () => {
    expect(host!.flakevirt('checkpoint', '-f', spec, 'cp-a').status).toBe(0);
    const d = host!.flakevirt('down', '-f', spec, 'cp-a');
    expect(d.status, d.stderr).toBe(0);
    expect(checkpoints()).toEqual([]);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });
});
