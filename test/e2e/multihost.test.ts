// One fleet over three libvirt hosts: the controller's own (a test host reached through its unix
// socket) and two more, each a test host with private libvirt state and an sshd on a veth link to
// the controller, reached with qemu+ssh:// — the setup ../shared/FACTS.md describes. Everything
// (flakevirt, Ansible, ssh) runs inside the controller's namespaces, as on a real controller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readlinkSync, readSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';
import { macFor } from '../../src/render/identity.js';
import { nixFixture, upstreamMissing } from '../helpers/nix.js';

const skip = e2eSkipReason() ?? (['ansible', 'ssh', 'ssh-keygen', '/usr/sbin/sshd'].every((c) => c.startsWith('/') ? existsSync(c) : hasCommand(c)) ? undefined : 'ansible-core, openssh-client and openssh-server are needed');
const ctl = skip ? undefined : new TestHost('mhc');
const box1 = skip ? undefined : new TestHost('mh1');
const box2 = skip ? undefined : new TestHost('mh2');
const GUESTS = ['mh-x', 'mh-y', 'mh-z'];
let spec = '';
/** The address every guest gets on its own host (a deliberate collision). */
const COLLIDING_IP = '192.168.122.77';

function fv(...args: string[]) {
  return ctl!.flakevirt('-f', spec, ...args);
}

/** flakevirt volumes in a test host's pool "flakevirt" (none when the pool is not there). */
function volumes(h: TestHost): string[] {
  const r = h.exec(['virsh', '-q', '-c', 'qemu:///system', 'vol-list', 'flakevirt']);
  return r.status === 0 ? r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean).sort() : [];
}

function domains(h: TestHost): string[] {
  return h.virsh('list', '--all', '--name').split('\n').map((s) => s.trim()).filter(Boolean).sort();
}

describe.skipIf(skip)('a fleet over three libvirt hosts', () => {
  beforeAll(() => {
    for (const h of [ctl!, box1!, box2!]) h.up();
    const key = join(ctl!.scratch, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'flakevirt-multihost', '-f', key]);
    const ip1 = box1!.link(ctl!, 41);
    const ip2 = box2!.link(ctl!, 42);
    box1!.sshd('start', `${key}.pub`);
    box2!.sshd('start', `${key}.pub`);
    const g = tinyGuest();
    const boot = `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet"`;
    const uri = (ip: string) => `"qemu+ssh://root@${ip}/system?keyfile=${key}&no_verify=1"`;
    spec = join(ctl!.scratch, 'flakevirt.yaml');
    writeFileSync(spec, `pool: ${join(ctl!.scratch, 'pool')}
accel: tcg
user: kdevops
sshKeyFiles: [${key}.pub]
hosts:
  local: { connect: "qemu:///system" }
  box1: { connect: ${uri(ip1)} }
  box2: { connect: ${uri(ip2)} }
defaults: { memory: 384MiB, vcpus: 1, diskSize: 1GiB }
guests:
  mh-x: { host: box1, ${boot}, disks: { /dev/vdb: { size: 32MiB }, /dev/nvme0n1: { size: 64MiB } } }
  mh-y: { ${boot} }
  mh-z: { ${boot}, disks: { /dev/vdb: { size: 32MiB, format: qcow2 } } }
`);
  });
  afterAll(() => {
    for (const h of [ctl, box1, box2]) h?.down();
  });

  let placed: Record<string, string> = {};

  it('plan puts the pinned guest on its host and spreads the others, creating nothing', () => {
    const r = fv('plan', '--json');
    expect(r.status, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { guests: Array<{ guest: string; host: string; why: string }> }).guests;
    placed = Object.fromEntries(rows.map((x) => [x.guest, x.host]));
    expect(rows.find((x) => x.guest === 'mh-x')).toMatchObject({ host: 'box1', why: 'pinned' });
    expect(new Set(Object.values(placed))).toEqual(new Set(['local', 'box1', 'box2'])); // equal hosts: one guest each
    expect(fv('plan', '--json').stdout).toBe(r.stdout); // deterministic
    for (const h of [ctl!, box1!, box2!]) expect(domains(h)).toEqual([]);
    expect(volumes(box1!)).toEqual([]);
  });

  it('up brings all three up with fresh leases, uploading each image once per remote host', () => {
    // Every guest gets the same address on its own host's network: only the right ssh path reaches
    // the right guest (a remote guest reached directly from the controller would be the local one).
    for (const [h, name] of [[ctl!, 'local'], [box1!, 'box1'], [box2!, 'box2']] as const) {
      for (const g of GUESTS.filter((x) => placed[x] === name)) {
        h.virsh('net-update', 'default', 'add', 'ip-dhcp-host', `<host mac='${macFor(g)}' ip='${COLLIDING_IP}'/>`, '--live', '--config');
      }
    }
    // box2 has a pool "flakevirt" defined whose directory does not exist (as one inherited or left
    // behind would): up builds it before starting it.
    box2!.virsh('pool-define-as', 'flakevirt', 'dir', '--target', '/var/lib/libvirt/flakevirt');
    const r = fv('up', '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    for (const g of GUESTS) expect(r.stdout).toMatch(new RegExp(`^${g}\\s+${placed[g]}\\s+${COLLIDING_IP.replaceAll('.', '\\.')}\\s+created`, 'm'));
    for (const [h, name] of [[ctl!, 'local'], [box1!, 'box1'], [box2!, 'box2']] as const) {
      expect(domains(h)).toEqual(GUESTS.filter((g) => placed[g] === name));
    }
    // Content-addressed uploads, each with its completion marker, once per remote host.
    const uploads = r.stderr.split('\n').filter((l) => /\buploading (base|kernel|initrd)-\S+ \(\S+\) to/.test(l));
    expect(uploads.length).toBe(6);
    for (const h of [box1!, box2!]) {
      const v = volumes(h);
      for (const kind of ['base', 'kernel', 'initrd']) {
        const blob = v.find((n) => n.startsWith(`${kind}-`) && !n.endsWith('.complete'));
        expect(blob, v.join(' ')).toBeDefined();
        expect(v).toContain(`${blob}.complete`);
      }
    }
    expect(volumes(box1!)).toEqual(expect.arrayContaining(['mh-x.root.qcow2', 'mh-x.vdb.raw', 'mh-x.nvme0n1.raw']));
  });

  it('up again changes nothing and uploads nothing', () => {
    const r = fv('up');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').every((l) => /running and up to date/.test(l))).toBe(true);
    expect(r.stderr).not.toMatch(/uploading/);
  });

  it('list shows each guest on its host; Ansible reaches all three through flakevirt\'s inventory', () => {
    const list = fv('list', '--json');
    expect(list.status, list.stderr).toBe(0);
    for (const row of JSON.parse(list.stdout) as Array<{ name: string; host: string; state: string; ip: string }>) {
      expect(row).toMatchObject({ host: placed[row.name], state: 'running', ip: expect.stringMatching(/^192\.168\.122\./) });
    }
    // Every inventory format, each Ansible call with a control path of its own (a master from an
    // earlier call would carry it through whatever path that call took).
    const ini = join(ctl!.scratch, 'hosts.ini');
    writeFileSync(ini, fv('inventory').stdout);
    const yml = join(ctl!.scratch, 'hosts.yml');
    writeFileSync(yml, fv('inventory', '--format', 'yaml').stdout);
    const script = join(ctl!.scratch, 'inventory.sh');
    expect(fv('inventory', '--script', script).status).toBe(0);
    for (const inv of [ini, yml, script]) {
      const cp = mkdtempSync(join(ctl!.scratch, 'cp-'));
      const r = ctl!.exec(['env', `ANSIBLE_SSH_CONTROL_PATH_DIR=${cp}`, 'ansible', '-i', inv, 'all', '-m', 'raw', '-a', 'cat /sys/class/net/eth0/address', '-f', '3']);
      expect(r.status, `${inv}: ${r.stdout}${r.stderr}`).toBe(0);
      for (const g of GUESTS) expect(r.stdout, inv).toMatch(new RegExp(`${g} \\| CHANGED \\| rc=0 >>\\n${macFor(g)}`));
    }
    // ssh with flakevirt's ssh_config goes through the jump too.
    const conf = join(ctl!.scratch, 'ssh.conf');
    writeFileSync(conf, fv('ssh-config').stdout);
    const remote = GUESTS.find((g) => placed[g] === 'box2')!;
    const s = ctl!.exec(['ssh', '-F', conf, remote, 'cat /sys/class/net/eth0/address']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout.trim()).toBe(macFor(remote));
    // And flakevirt ssh, with the remote command's exit status.
    const f = fv('ssh', remote, '--', 'cat /sys/class/net/eth0/address; exit 4');
    expect(f.status, f.stderr).toBe(4);
    expect(f.stdout.trim()).toBe(macFor(remote));
  });

  it('checkpoint and reset of the guest on box2 go through that host\'s libvirt (qemu+ssh)', () => {
    const remote = GUESTS.find((g) => placed[g] === 'box2')!; // mh-y or mh-z: both can have a checkpoint
    const conf = join(ctl!.scratch, 'ssh.conf');
    const sh = (cmd: string) => {
      const r = ctl!.exec(['ssh', '-F', conf, remote, cmd]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    // Read before the checkpoint: the kernel makes the boot id at its first read.
    const bootId = sh('cat /proc/sys/kernel/random/boot_id');
    const c = fv('checkpoint', remote);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(new RegExp(`${remote}\\s+box2\\s+-\\s+checkpoint default taken`));
    // The snapshot is in box2's own files, made by box2's QEMU.
    expect(box2!.virsh('qemu-monitor-command', '--hmp', remote, 'info snapshots')).toMatch(/fv-default-/);
    // A file in the guest's RAM-backed root (the user's home), written after the checkpoint: the reset takes it away.
    sh('echo after > ~/fv-after-checkpoint');
    const r = fv('reset', remote, '--wait', 'ssh');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${remote}\\s+box2\\s+192\\.168\\.122\\.\\d+\\s+reset to checkpoint default`));
    expect(sh('test -e ~/fv-after-checkpoint && echo there || echo gone')).toBe('gone');
    expect(sh('cat /proc/sys/kernel/random/boot_id')).toBe(bootId);
  });

  it('reimage of a remote guest gives it a fresh root and lease and keeps its extra disk', () => {
    const vdb = box1!.libvirtState('flakevirt', 'mh-x.vdb.raw');
    const root = box1!.libvirtState('flakevirt', 'mh-x.root.qcow2');
    const fd = openSync(vdb, 'r+');
    writeSync(fd, Buffer.from('flakevirt-keep-me'), 0, 17, 4096);
    closeSync(fd);
    // Held open, the old overlay's inode cannot be reused by the new one.
    const held = openSync(root, 'r');
    const before = statSync(root).ino;
    const r = fv('reimage', 'mh-x', '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mh-x\s+box1\s+192\.168\.122\.\d+\s+reimaged, extra disks kept/);
    expect(statSync(root).ino).not.toBe(before);
    closeSync(held);
    const back = Buffer.alloc(17);
    const rd = openSync(vdb, 'r');
    readSync(rd, back, 0, 17, 4096);
    closeSync(rd);
    expect(back.toString()).toBe('flakevirt-keep-me');
    // The console log lives on the remote host; console --log fetches it through libvirt.
    const log = fv('console', 'mh-x', '--log');
    expect(log.status, log.stderr).toBe(0);
    expect(log.stdout).toMatch(/udhcpc|eth0|Linux/);
  });

  it('down --all leaves no domain and no volume on any host, and no guest directory locally', () => {
    const r = fv('down', '--all');
    expect(r.status, r.stderr).toBe(0);
    for (const h of [ctl!, box1!, box2!]) expect(domains(h)).toEqual([]);
    expect(volumes(box1!)).toEqual([]);
    expect(volumes(box2!)).toEqual([]);
    expect(existsSync(join(ctl!.scratch, 'pool', 'mh-y'))).toBe(false);
  });

  it('with one host\'s sshd stopped, up brings up the others and fails that host\'s guest; the next up finishes', () => {
    const gone = GUESTS.find((g) => placed[g] === 'box2')!;
    box2!.sshd('stop');
    try {
      const r = fv('up', '--json', '--timeout', '120');
      expect(r.status).toBe(1);
      const results = JSON.parse(r.stdout) as Array<{ name: string; ok: boolean; host: string; error?: string }>;
      for (const g of GUESTS.filter((x) => x !== gone)) expect(results.find((x) => x.name === g)).toMatchObject({ ok: true, host: placed[g] });
      const failed = results.find((x) => x.name === gone)!;
      expect(failed).toMatchObject({ ok: false, host: 'box2' });
      expect(failed.error).toMatch(/^host box2: cannot connect to libvirt at qemu\+ssh:\/\/root@10\.231\.42\.2\/system.*Connection refused/s);
      const list = fv('list');
      expect(list.stdout).toMatch(new RegExp(`${gone}\\s+box2\\s+unreachable`));
    } finally {
      box2!.sshd('start', join(ctl!.scratch, 'id_ed25519.pub'));
    }
    // What a killed upload leaves: the base's volume, part-written, without its .complete marker.
    const id = createHash('sha256').update(readFileSync(tinyGuest().base)).digest('hex').slice(0, 32);
    box2!.virsh('vol-create-as', 'flakevirt', `base-${id}.qcow2`, '4096');
    const again = fv('up', '--timeout', '120');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`removing base-${id}\\.qcow2 on box2, left incomplete by an interrupted upload`));
    expect(again.stderr).toMatch(new RegExp(`uploading base-${id}\\.qcow2 \\(\\S+\\) to box2`));
    expect(again.stdout).toMatch(new RegExp(`${gone}\\s+box2\\s+192\\.168\\.122\\.\\d+\\s+created`));
    expect(domains(box2!)).toEqual([gone]);
    const down = fv('down', '--all');
    expect(down.status, down.stderr).toBe(0);
    for (const h of [ctl!, box1!, box2!]) expect(domains(h)).toEqual([]);
    expect([...volumes(box1!), ...volumes(box2!)]).toEqual([]);
  });

  const nixSkip = !hasCommand('nix') ? 'nix not installed' : upstreamMissing();
  if (nixSkip) process.stderr.write(`skipped (Nix-built image on a remote host): ${nixSkip}\n`);
  it.skipIf(nixSkip)('a Nix-built image goes to a remote host under its store hash and boots there', () => {
    const fx = nixFixture(ctl!.scratch);
    const g = tinyGuest();
    const nixSpec = join(ctl!.scratch, 'nix.yaml');
    const key = join(ctl!.scratch, 'id_ed25519');
    writeFileSync(nixSpec, readFileSync(spec, 'utf8').replace(/^guests:[\s\S]*$/m, `nixosFlake: ${fx.nixosFlake}
guests:
  mh-nix: { host: box1, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 quiet" }
`).replace(/^sshKeyFiles: .*$/m, `sshKeyFiles: [${key}.pub]`));
    const r = ctl!.flakevirtEnv(fx.env, '-f', nixSpec, 'up', '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^mh-nix\s+box1\s+192\.168\.122\.\d+\s+created/m);
    const store = readlinkSync(join(ctl!.scratch, '.flakevirt', 'mh-nix', 'result'));
    const hash = /^\/nix\/store\/([0-9a-z]{32})-/.exec(store)![1]!;
    expect(volumes(box1!)).toEqual(expect.arrayContaining([`base-${hash}.qcow2`, `base-${hash}.qcow2.complete`, 'mh-nix.root.qcow2']));
    expect(box1!.virsh('dumpxml', 'mh-nix')).toContain(`/var/lib/libvirt/flakevirt/base-${hash}.qcow2`);
    const down = ctl!.flakevirtEnv(fx.env, '-f', nixSpec, 'down', '--all');
    expect(down.status, down.stderr).toBe(0);
    expect(volumes(box1!)).toEqual([]);
  });
});
