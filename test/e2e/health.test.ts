// Kernel health on real guests (QEMU 10 under TCG, Debian's 6.12 cloud kernel, 2 vCPUs): a panic
// before the lease fails `up` at once with the report; a crash, a hung task and a reset show in
// `list`, `health`, `up` and the dynamic inventory; a healthy boot after a crash in the same log
// (panic=1 reboots inside the same QEMU) is ok.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';

const skip = e2eSkipReason() ?? (hasCommand('ssh') ? undefined : 'openssh-client is needed');
const host = skip ? undefined : new TestHost('health');
let spec = '';
let key = '';
const ips: Record<string, string> = {};

function guestSh(guest: string, cmd: string, { check = true } = {}): string {
  const r = host!.exec(['timeout', '30', 'ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', `root@${ips[guest]}`, cmd]);
  if (check && r.status !== 0) throw new Error(`${guest}: ${cmd}: ${r.stderr}`);
  return r.stdout.trim();
}
type Row = { name: string; state: string; ip: string | null; kernel: { state: string; report: string | null; reports: number } | null };
const rows = (): Row[] => JSON.parse(host!.flakevirt('list', '-f', spec, '--json').stdout) as Row[];
const kernelOf = (name: string) => rows().find((r) => r.name === name)?.kernel;
type Health = { name: string; state: string; bootAt: number; log: string; reports: Array<{ state: string; line: string; excerpt: string[] }> };
const health = (...guests: string[]) => {
  const r = host!.flakevirt('health', '-f', spec, '--json', ...guests);
  return { status: r.status, list: JSON.parse(r.stdout) as Health[] };
};
async function until<T>(what: string, probe: () => T | undefined, seconds = 120): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe.skipIf(skip)('kernel health on real guests', () => {
  beforeAll(() => {
    host!.up();
    key = join(host!.scratch, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const g = tinyGuest();
    // hk-b failed before its lease in one loaded CI run, for a reason its output did not keep (the
    // assertion now shows stderr). no_timer_check rules out one known cause under TCG: the kernel's
    // IO-APIC timer check failing on a busy host, which panics, and a panic before the lease fails up.
    const boot = (cmdline: string) => `image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "${cmdline}"`;
    spec = join(host!.scratch, 'flakevirt.yaml');
    writeFileSync(spec, `pool: ${join(host!.scratch, 'pool')}
accel: tcg
sshKeyFiles: [${key}.pub]
defaults: { memory: 320MiB, vcpus: 2, diskSize: 1GiB }
guests:
  hk-a: { ${boot('console=ttyS0 no_timer_check')}, disks: { /dev/vdb: { size: 32MiB, format: qcow2 } } }
  hk-b: { ${boot('console=ttyS0 no_timer_check panic=1')} }
  hk-c: { ${boot('console=ttyS0 rdinit=/nonexistent')} }
`);
  });
  afterAll(() => host?.down());

  it('up: a kernel that panics before its lease fails at once with the report and the log; the others come up ok', () => {
    // The healthy two first: a panicked kernel spins one vCPU at 100% for good (panic()'s mdelay
    // loop), a whole host core under TCG, and with it booting alongside, hk-a once stalled in RCU
    // for 480 s before its lease on this 2-core machine (CI, 2026-12-02).
    const first = host!.flakevirt('up', '-f', spec, '--timeout', '600', 'hk-a', 'hk-b');
    expect(first.status, first.stderr).toBe(0);
    for (const g of ['hk-a', 'hk-b']) {
      const ip = new RegExp(`${g}\\s+(\\d+\\.\\d+\\.\\d+\\.\\d+)\\s+created`).exec(first.stdout)?.[1];
      expect(ip, `${first.stdout}\n${first.stderr}`).toBeDefined();
      ips[g] = ip!;
    }
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '600');
    expect(r.status, r.stderr).toBe(1);
    for (const g of ['hk-a', 'hk-b']) expect(r.stdout).toMatch(new RegExp(`^${g}\\s+${ips[g]!.replaceAll('.', '\\.')}\\s+running and up to date`, 'm'));
    // Not the lease timeout (600 s): the panic itself, its trace and where the log is.
    expect(r.stderr).toMatch(/hk-c: the kernel panicked before the guest got a DHCP lease: Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block\(0,0\)/);
    expect(r.stderr).toMatch(/console log \S+\/hk-c\/console\.log \(this boot from byte 0; all its reports: flakevirt health hk-c\)/);
    expect(r.stderr).toMatch(/\| .*Call Trace:/);
    expect(r.stderr).not.toMatch(/within 600 s/);
    const list = rows();
    expect(list.find((x) => x.name === 'hk-a')?.kernel).toEqual({ state: 'ok', report: null, reports: 0 });
    expect(list.find((x) => x.name === 'hk-c')?.kernel).toMatchObject({ state: 'panic', report: 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)' });
    const text = host!.flakevirt('list', '-f', spec).stdout;
    expect(text).toMatch(/^NAME\s+HOST\s+STATE\s+IP\s+KERNEL/m);
    expect(text).toMatch(/^hk-c\s+\S+\s+running\s+-\s+panic/m);
    expect(text).toMatch(/kernel: panic: Kernel panic - not syncing: VFS: Unable to mount root fs .*\(flakevirt health hk-c\)/);
    // Stopped, so its spinning vCPU does not starve the others' tests; its last boot still counts.
    host!.virsh('destroy', 'hk-c');
    expect(kernelOf('hk-c')?.state).toBe('panic');
  });

  it('a crash over ssh shows as panic in list, up (a warning, exit 0) and the inventory; a reset to a checkpoint is ok again', async () => {
    const ck = host!.flakevirt('checkpoint', '-f', spec, 'hk-a');
    expect(ck.status, ck.stderr).toBe(0);
    guestSh('hk-a', 'echo c > /proc/sysrq-trigger', { check: false });
    const k = await until('hk-a to report the panic', () => { const x = kernelOf('hk-a'); return x?.state === 'panic' ? x : undefined; });
    expect(k.report).toBe('Kernel panic - not syncing: sysrq triggered crash');
    const up = host!.flakevirt('up', '-f', spec, 'hk-a');
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/hk-a .*running and up to date[\s\S]*warning: kernel panic: Kernel panic - not syncing: sysrq triggered crash.*\(flakevirt health hk-a\)/);
    const inv = JSON.parse(host!.flakevirt('inventory', '-f', spec, '--list').stdout) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    expect(inv._meta.hostvars['hk-a']?.flakevirt_kernel).toBe('panic');
    expect(inv._meta.hostvars['hk-b']?.flakevirt_kernel).toBe('ok');
    const h = health('hk-a');
    expect(h.status).toBe(1);
    expect(h.list[0]!.reports[0]!.excerpt.join('\n')).toMatch(/sysrq triggered crash[\s\S]*Call Trace:[\s\S]*sysrq_handle_crash/);
    const reset = host!.flakevirt('reset', '-f', spec, 'hk-a');
    expect(reset.status, reset.stderr).toBe(0);
    // The same boot, from the checkpoint on: what the log holds from before the reset is not its state.
    expect(kernelOf('hk-a')).toMatchObject({ state: 'ok' });
    expect(readFileSync(join(host!.scratch, 'pool', 'hk-a', 'console.log'), 'latin1')).toContain('sysrq triggered crash');
    expect(guestSh('hk-a', 'echo alive')).toBe('alive');
  });

  it('a hung task (a write to a frozen filesystem) shows as hung, with its report in health', async () => {
    guestSh('hk-a', 'mke2fs -q /dev/vdb && mkdir -p /mnt/t && mount /dev/vdb /mnt/t && echo 2 > /proc/sys/kernel/hung_task_timeout_secs && fsfreeze --freeze /mnt/t && (setsid sh -c "echo x > /mnt/t/f" </dev/null >/dev/null 2>&1 &)');
    const k = await until('hk-a to report the hung task', () => { const x = kernelOf('hk-a'); return x?.state === 'hung' ? x : undefined; });
    expect(k.report).toMatch(/^INFO: task sh:\d+ blocked for more than \d+ seconds\.$/);
    const r = host!.flakevirt('health', '-f', spec, 'hk-a');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^hk-a\s+hung\s+this boot: \S+console\.log from byte \d+/m);
    expect(r.stdout).toMatch(/hung: INFO: task sh:\d+ blocked for more than \d+ seconds\.\s+\[hung task: kernel\/hung_task\.c/);
    expect(r.stdout).toMatch(/\| .*hung_task_timeout_secs/);
    guestSh('hk-a', 'fsfreeze --unfreeze /mnt/t');
  });

  it('a healthy boot after a crash in the same log (panic=1 reboots inside the same QEMU) is ok', async () => {
    guestSh('hk-b', 'echo c > /proc/sysrq-trigger', { check: false });
    const h = await until('hk-b to boot again', () => { const x = health('hk-b').list[0]!; return x.bootAt > 0 && x.state === 'ok' ? x : undefined; });
    const log = readFileSync(h.log, 'latin1');
    expect(log.slice(0, h.bootAt)).toContain('Kernel panic - not syncing: sysrq triggered crash');
    expect(log.slice(h.bootAt)).toMatch(/^\[\s*0\.000000\] Linux version/);
    expect(kernelOf('hk-b')).toEqual({ state: 'ok', report: null, reports: 0 });
    expect(health().status).toBe(1); // hk-a is still hung, hk-c panicked
  });

  it('down removes them all', () => {
    const r = host!.flakevirt('down', '-f', spec);
    expect(r.status, r.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });
});
