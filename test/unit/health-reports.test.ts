// Kernel reports on the console (src/health/reports.ts): every pattern with real report text, the
// look-alikes that must not count, boots in one log, and scanning in pieces.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { emptyScan, healthLine, healthOf, PATTERNS, reportExcerpt, scanLog, type HealthState } from '../../src/health/reports.js';
import { fixture } from '../helpers/fixtures.js';

const scan = (text: string, opts = {}) => scanLog(text, 0, emptyScan(0), opts).state;
const stamp = (t: number) => `[${t.toFixed(6).padStart(12)}] `;
/** Lines as the kernel prints them with CONFIG_PRINTK_TIME (Debian's default), after a banner at 0.0. */
const boot = (...lines: string[]) => [`${stamp(0)}Linux version 6.12.95+deb12-cloud-amd64 (debian-kernel@lists.debian.org) (gcc) #1 SMP`, ...lines.map((l, i) => `${stamp(1 + i / 100)}${l}`)].join('\n') + '\n';

// Report lines: the format strings of Debian's 6.12.95 cloud kernel (`strings vmlinux`, see
// src/health/reports.ts), with the values of the kernel's documentation's examples where it has one.
const REPORTS: Array<[string, HealthState, string[]]> = [
  // Produced here: test/fixtures/console/panic-no-root.txt's panic line (6.12.95, rdinit=/nonexistent).
  ['kernel panic', 'panic', ['Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)', 'CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.95+deb12-cloud-amd64 #1']],
  // kernel/panic.c's sysrq crash (drivers/tty/sysrq.c sysrq_handle_crash), as the e2e test provokes it.
  ['kernel panic', 'panic', ['Kernel panic - not syncing: sysrq triggered crash', 'CPU: 1 UID: 0 PID: 214 Comm: sh Not tainted 6.12.95+deb12-cloud-amd64 #1']],
  ['oops', 'oops', ['Oops: general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1] PREEMPT SMP NOPTI', 'RIP: 0010:xfs_foo+0x1f/0x40 [xfs]']],
  ['oops', 'oops', ['Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI']],
  ['general protection fault', 'oops', ['general protection fault: 0000 [#1] SMP PTI']],
  ['BUG', 'oops', ['BUG: kernel NULL pointer dereference, address: 0000000000000000', '#PF: supervisor write access in kernel mode']],
  ['BUG', 'oops', ['BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585']],
  ['BUG', 'oops', ['BUG: scheduling while atomic: kworker/0:1/12/0x00000002']],
  ['kernel BUG', 'oops', ['kernel BUG at fs/ext4/inode.c:2710!', 'invalid opcode: 0000 [#1] SMP']],
  // Documentation/dev-tools/kasan.rst's example report.
  ['KASAN report', 'oops', ['BUG: KASAN: slab-out-of-bounds in kmalloc_oob_right+0xa8/0xbc [kasan_test]', 'Write of size 1 at addr ffff8801f44ec37b by task insmod/2760']],
  // Documentation/dev-tools/kfence.rst's use-after-free report.
  ['KFENCE report', 'oops', ['BUG: KFENCE: use-after-free read in test_use_after_free_read+0xb3/0x143', '', 'Use-after-free read at 0xffffffffb673dfe0 (in kfence-#24):']],
  // Documentation/dev-tools/ubsan.rst (the current format, and the one before 5.x).
  ['UBSAN report', 'oops', ['UBSAN: array-index-out-of-bounds in fs/ext4/super.c:1234:5', 'index 8 is out of range for type \'u32 [8]\'']],
  ['UBSAN report', 'oops', ['UBSAN: Undefined behaviour in ../include/linux/bitops.h:110:33']],
  ['WARNING', 'warn', ['WARNING: CPU: 1 PID: 345 at fs/xfs/xfs_message.c:104 xfs_buf_alert_ratelimited+0x4c/0x60 [xfs]', 'Modules linked in: xfs', 'Call Trace:', ' <TASK>', ' dump_stack_lvl+0x5d/0x80', ' </TASK>', '---[ end trace 0000000000000000 ]---', 'after the trace']],
  ['WARNING', 'warn', ['WARNING: CPU: 0 PID: 1 at kernel/workqueue.c:3722 __flush_work+0x3d/0x50']],
  // kernel/locking/lockdep.c print_circular_bug_header, as syzbot's reports show it.
  ['lockdep report', 'warn', ['WARNING: possible circular locking dependency detected', '6.10.0-rc5 #0 Not tainted', '------------------------------------------------------']],
  ['lockdep report', 'warn', ['WARNING: possible recursive locking detected']],
  ['hung task', 'hung', ['INFO: task dd:412 blocked for more than 2 seconds.', '      Not tainted 6.12.95+deb12-cloud-amd64 #1', '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.']],
  ['hung task', 'hung', ['INFO: task kworker/u8:2:87 blocked for more than 122 seconds.']],
  ['soft lockup', 'hung', ['watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [fsstress:5321]']],
  ['hard lockup', 'hung', ['watchdog: Watchdog detected hard LOCKUP on cpu 3']],
  ['RCU stall', 'hung', ['rcu: INFO: rcu_preempt self-detected stall on CPU', 'rcu: \t1-....: (21000 ticks this GP) idle=...']],
  ['RCU stall', 'hung', ['rcu: INFO: rcu_sched detected stalls on CPUs/tasks:']],
  ['workqueue lockup', 'hung', ['BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 31s!']],
];

describe('kernel reports', () => {
  it.each(REPORTS)('%s: %s from its real text', (name, state, lines) => {
    const s = scan(boot('ordinary line', ...lines), { excerpts: true });
    expect(s.reports.map((r) => [r.name, r.state, r.line])).toEqual([[name, state, lines[0]]]);
    expect(healthOf(s).state).toBe(state);
    // The excerpt is the report and its trace, stopping at the kernel's end-of-trace line.
    const ex = s.reports[0]!.excerpt!.map((l) => l.replace(/^\[[^\]]*\] /, ''));
    expect(ex[0]).toBe(lines[0]);
    if (lines.includes('---[ end trace 0000000000000000 ]---')) expect(ex.at(-1)).toBe('---[ end trace 0000000000000000 ]---');
    else expect(ex).toEqual(lines);
  });

  it('has a test above for every pattern', () => {
    expect(new Set(REPORTS.map(([n]) => n))).toEqual(new Set(PATTERNS.map((p) => p.name)));
  });

  it.each([
    ['a test name containing BUG', 'xfs/123 BUG: reproducer for the bug'],
    ['fstests output quoting a warning', 'generic/475 - output mismatch: WARNING: CPU: 0 PID: 1 at'],
    ['the end line of a panic', '---[ end Kernel panic - not syncing: sysrq triggered crash ]---'],
    ['a userspace message about a BUG', 'systemd[1]: BUG: not a kernel report'],
    ['a task that was not blocked', 'INFO: task dd:412 is fine'],
    ['an RCU message that is not a stall', 'rcu: Hierarchical RCU implementation.'],
    ['Spectre mitigations saying WARNING', 'RETBleed: WARNING: CPU does not support IBPB.'],
    ['a lowercase warning', 'warning: something'],
    ['a report word mid-line', 'something Kernel panic - not syncing: no'],
  ])('does not count %s', (_what, line) => {
    expect(scan(boot(line)).reports).toEqual([]);
  });

  it('with timestamps on, a line without one is not the kernel\'s (a program writing to the console)', () => {
    const text = `${boot('ok')}BUG: printed by a test script straight to /dev/console\nKernel panic - not syncing: echo from userspace\n`;
    expect(healthOf(scan(text)).state).toBe('ok');
    // Without timestamps in the boot (printk.time=0), the same lines are the kernel's.
    const untimed = 'Linux version 6.12.95 (x@y) #1\nBUG: kernel NULL pointer dereference, address: 0000000000000000\n';
    expect(healthOf(scan(untimed)).state).toBe('oops');
  });

  it('accepts the caller id and level prefixes', () => {
    expect(scan('<4>[    1.000000][    T1] WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2\n').reports).toHaveLength(1);
    expect(scan('[    1.000000][  C0] watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [x:1]\n').reports[0]!.state).toBe('hung');
  });

  it('reads a real panic, produced here (Debian 6.12.95, rdinit=/nonexistent)', () => {
    const text = readFileSync(fixture('console', 'panic-no-root.txt'), 'latin1');
    const s = scan(text, { excerpts: true });
    expect(healthOf(s)).toMatchObject({ state: 'panic', count: 1, first: { line: 'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)' } });
    expect(s.bootAt).toBe(0);
    expect(s.reports[0]!.excerpt!.join('\n')).toMatch(/Call Trace:[\s\S]*mount_root_generic/);
    expect(reportExcerpt(s).length).toBeLessThanOrEqual(50);
  });

  it('keeps the current boot only: a healthy boot after a crashed one in the same log is ok', () => {
    const crashed = boot('Kernel panic - not syncing: sysrq triggered crash', 'Call Trace:');
    const healthy = boot('fv: ready');
    const s = scan(crashed + healthy);
    expect(healthOf(s).state).toBe('ok');
    expect(s.bootAt).toBe(crashed.length);
    // A banner later in a boot (someone ran `cat /proc/version` on the console) is no boot.
    const later = scan(crashed + '[   40.000000] Linux version 6.12.95 (x@y) #1\n' + 'Linux version 6.12.95 (x@y) #1\n');
    expect(healthOf(later).state).toBe('panic');
  });

  it('scans in pieces: a line cut at the end is read with the next piece, the result is the same', () => {
    const text = boot('a', 'WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2', 'b', 'INFO: task dd:1 blocked for more than 2 seconds.', 'c', 'Oops: Oops: 0002 [#1] SMP');
    const whole = scan(text);
    for (const cut of [1, 60, 100, 133, text.length - 3]) {
      let st = emptyScan(0);
      const first = scanLog(text.slice(0, cut), 0, st);
      st = first.state;
      const second = scanLog(text.slice(first.end), first.end, st);
      expect(second.state.reports.map((r) => [r.line, r.offset])).toEqual(whole.reports.map((r) => [r.line, r.offset]));
      expect(second.end).toBe(text.length);
    }
    expect(healthOf(whole)).toMatchObject({ state: 'oops', count: 3 });
    expect(healthLine('oops', whole.reports[0]!.line, 3)).toBe('oops: WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2 (+2 more)');
  });

  it('keeps at most 32 reports of a boot but counts them all', () => {
    const s = scan(boot(...Array.from({ length: 50 }, (_, i) => `WARNING: CPU: 0 PID: ${i} at a.c:1 f+0x1/0x2`)));
    expect(s.reports).toHaveLength(32);
    expect(s.count).toBe(50);
  });

  it('shows the first report and the panic it led to in a failure excerpt', () => {
    const trace = Array.from({ length: 60 }, (_, i) => ` frame_${i}+0x1/0x2`);
    const s = scan(boot('BUG: kernel NULL pointer dereference, address: 0000000000000000', ...trace, 'Kernel panic - not syncing: Fatal exception'), { excerpts: true });
    const ex = reportExcerpt(s);
    expect(ex[0]).toMatch(/BUG: kernel NULL pointer/);
    expect(ex).toContain('…');
    expect(ex.at(-1)).toMatch(/Kernel panic - not syncing: Fatal exception/);
    expect(ex.length).toBeLessThanOrEqual(50);
  });

  it('scans 10 MiB of ordinary log lines without a report', () => {
    const line = '[   12.345678] EXT4-fs (vdb): mounted filesystem with ordered data mode. Quota mode: none.\n';
    const text = line.repeat(Math.ceil((10 << 20) / line.length));
    expect(scan(text).count).toBe(0);
  });
});
