// Kernel reports on a guest's serial console: the one place that knows what an oops, a panic, a
// hung task or a warning looks like, and where one boot of the kernel starts. Pure: text in,
// reports out. Every pattern names the kernel source file that prints the line (checked against
// the format strings of Debian's 6.12 cloud kernel, `strings vmlinux`, where that kernel has them).
//
// A line counts only from its start, after the printk prefix (`[ 12.345678]`, optionally a caller
// id `[T123]`/`[C0]`, or a `<N>` level). When the boot's banner carries a timestamp, so must every
// report line: a program writing "BUG: …" to the serial console without going through the kernel
// log does not make a report.

export type HealthState = 'ok' | 'warn' | 'hung' | 'oops' | 'panic';
/** Worst last: a guest's state is the worst of its reports. */
export const HEALTH_ORDER: readonly HealthState[] = ['ok', 'warn', 'hung', 'oops', 'panic'];

interface Pattern {
  /** What the report is, for messages. */
  name: string;
  state: Exclude<HealthState, 'ok'>;
  /** Matched against the line after its printk prefix, from its start. */
  re: RegExp;
  /** The kernel source that prints it. */
  source: string;
}

// First match wins: specific "BUG:" lines before the generic one.
export const PATTERNS: readonly Pattern[] = [
  { name: 'kernel panic', state: 'panic', re: /^Kernel panic - not syncing: /, source: 'kernel/panic.c (panic)' },
  { name: 'soft lockup', state: 'hung', re: /^watchdog: BUG: soft lockup - CPU#\d+ stuck for /, source: 'kernel/watchdog.c (watchdog_timer_fn)' },
  { name: 'hard lockup', state: 'hung', re: /^watchdog: Watchdog detected hard LOCKUP on cpu \d+/, source: 'kernel/watchdog.c (watchdog_hardlockup_check)' },
  { name: 'hung task', state: 'hung', re: /^INFO: task \S.*:\d+ blocked for more than \d+ seconds\./, source: 'kernel/hung_task.c (check_hung_task)' },
  { name: 'RCU stall', state: 'hung', re: /^rcu: INFO: \w+ (?:self-detected stall on CPU|detected stalls on CPUs\/tasks:|detected expedited stalls)/, source: 'kernel/rcu/tree_stall.h (print_cpu_stall, print_other_cpu_stall), kernel/rcu/tree_exp.h' },
  { name: 'workqueue lockup', state: 'hung', re: /^BUG: workqueue lockup - pool /, source: 'kernel/workqueue.c (wq_watchdog_timer_fn)' },
  { name: 'KASAN report', state: 'oops', re: /^BUG: KASAN: /, source: 'mm/kasan/report.c (print_error_description)' },
  { name: 'KFENCE report', state: 'oops', re: /^BUG: KFENCE: /, source: 'mm/kfence/report.c (kfence_report_error)' },
  { name: 'UBSAN report', state: 'oops', re: /^UBSAN: .+ in \S+:\d+/, source: 'lib/ubsan.c (ubsan_prologue)' },
  { name: 'kernel BUG', state: 'oops', re: /^kernel BUG at \S+:\d+!/, source: 'lib/bug.c (report_bug)' },
  { name: 'BUG', state: 'oops', re: /^BUG: \S/, source: 'arch/x86/mm/fault.c (show_fault_oops), kernel/sched/core.c (__schedule_bug), mm/slub.c, …' },
  { name: 'oops', state: 'oops', re: /^Oops: /, source: 'arch/x86/kernel/dumpstack.c (__die_header)' },
  { name: 'general protection fault', state: 'oops', re: /^general protection fault: [0-9a-f]{4} \[#\d+\]/, source: 'arch/x86/kernel/dumpstack.c (__die_header, before 6.11)' },
  { name: 'lockdep report', state: 'warn', re: /^WARNING: (?:possible circular locking dependency detected|possible recursive locking detected|inconsistent lock state)/, source: 'kernel/locking/lockdep.c (print_circular_bug_header, print_deadlock_bug, print_usage_bug)' },
  { name: 'WARNING', state: 'warn', re: /^WARNING: CPU: \d+ PID: \d+ at \S/, source: 'kernel/panic.c (__warn)' },
];

// init/main.c (start_kernel) prints init/version.c's linux_banner first in every boot.
const BANNER = /^Linux version \S+ \(/;
// [    1.234567] and an optional caller id [T123] / [  C0] (CONFIG_PRINTK_CALLER); or a <N> level.
const PREFIX = /^(?:<\d{1,3}>)?(\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])?\s?)?/;
// Where a report's excerpt ends, besides the bound: the kernel's end-of-report lines.
const END = /^---\[ end (?:trace|Kernel panic)/;
// The first bytes of each line a report can start with: a quick filter before the regexps.
const STARTS = /^(?:<\d{1,3}>)?(?:\[[^\]]*\](?:\[[^\]]*\])?\s?)?(?:Kernel panic|watchdog: |INFO: task |rcu: INFO: |BUG: |UBSAN: |kernel BUG|Oops: |general protection|WARNING: |Linux version )/gm;

/** Lines of a report excerpt: the report line and its trace. */
export const EXCERPT_LINES = 40;

export interface KernelReport {
  name: string;
  state: Exclude<HealthState, 'ok'>;
  /** The kernel file that prints it (the pattern's). */
  source: string;
  /** The report line, without its printk prefix (printable is the caller's job). */
  line: string;
  /** Byte offset of the line in the log. */
  offset: number;
  /** The line and what follows it (its trace), bounded; only when asked for. */
  excerpt?: string[];
}

export interface ScanState {
  /** Offset of the current boot's banner (or of where the region started). */
  bootAt: number;
  /** Whether that banner carried a printk timestamp (then report lines must, too). */
  timed: boolean | undefined;
  /** This boot's reports, in order, at most MAX_REPORTS. */
  reports: KernelReport[];
  /** How many reports there were in all. */
  count: number;
}

export const MAX_REPORTS = 32;

export function emptyScan(at: number): ScanState {
  return { bootAt: at, timed: undefined, reports: [], count: 0 };
}

/**
 * Scans `text` (the log from byte offset `at`, latin1-decoded so characters are bytes) on from
 * `state`. Only complete lines are read: returns the state and the offset after the last newline,
 * where the next scan goes on. A new banner starts a new boot: the reports before it are dropped.
 */
export function scanLog(text: string, at: number, state: ScanState, { excerpts = false } = {}): { state: ScanState; end: number } {
  const last = text.lastIndexOf('\n');
  if (last < 0) return { state, end: at };
  const body = text.slice(0, last + 1);
  let s: ScanState = { ...state, reports: [...state.reports] };
  let pos = 0;
  while (pos < body.length) {
    // Jump to the next line that may matter; most of a log does not.
    STARTS.lastIndex = pos;
    const m = STARTS.exec(body);
    if (!m) break;
    const lineStart = m.index;
    const lineEnd = body.indexOf('\n', lineStart);
    const raw = body.slice(lineStart, lineEnd).replace(/\r/g, '');
    pos = lineEnd + 1;
    const prefix = PREFIX.exec(raw)!;
    const msg = raw.slice(prefix[0].length);
    const timed = prefix[1] !== undefined;
    if (BANNER.test(msg)) {
      // A banner printed later in a boot (someone ran `cat /proc/version`) is not a boot: a real
      // one is the first line of its boot, at time zero when timestamps are on; and a boot with
      // timestamps is not ended by a line without one.
      if (timed ? !/^\[\s*0\.0+\]/.test(prefix[1]!) : s.timed === true) continue;
      s = { bootAt: at + lineStart, timed, reports: [], count: 0 };
      continue;
    }
    if (s.timed === true && !timed) continue;
    const p = PATTERNS.find((x) => x.re.test(msg));
    if (!p) continue;
    s.count++;
    if (s.reports.length >= MAX_REPORTS) continue;
    const r: KernelReport = { name: p.name, state: p.state, source: p.source, line: msg, offset: at + lineStart };
    if (excerpts) r.excerpt = excerptAt(body, lineStart);
    s.reports.push(r);
  }
  return { state: s, end: at + last + 1 };
}

function excerptAt(body: string, start: number): string[] {
  const out: string[] = [];
  let pos = start;
  while (pos < body.length && out.length < EXCERPT_LINES) {
    const end = body.indexOf('\n', pos);
    const line = body.slice(pos, end).replace(/\r/g, '');
    out.push(line);
    pos = end + 1;
    if (END.test(line.slice(PREFIX.exec(line)![0].length))) break;
  }
  return out;
}

export interface Health {
  state: HealthState;
  /** The first report of the boot (the cause, usually; what follows is often its consequence). */
  first?: KernelReport;
  count: number;
}

/** The worst state of the reports and the first of them. */
export function healthOf(s: Pick<ScanState, 'reports' | 'count'>): Health {
  let state: HealthState = 'ok';
  for (const r of s.reports) if (HEALTH_ORDER.indexOf(r.state) > HEALTH_ORDER.indexOf(state)) state = r.state;
  return { state, ...(s.reports[0] && { first: s.reports[0] }), count: s.count };
}

/** "panic: Kernel panic - not syncing: … (+2 more)": a boot's health in one line, for list and up's warnings. */
export function healthLine(state: HealthState, report: string | null | undefined, count: number): string {
  if (!report) return state;
  return `${state}: ${report}${count > 1 ? ` (+${count - 1} more)` : ''}`;
}

/**
 * What a failure message shows of a boot's reports: the first report and its trace, and the worst
 * one's when the first excerpt does not reach it (an oops, then the panic it led to), bounded.
 */
export function reportExcerpt(s: Pick<ScanState, 'reports'>, maxLines = EXCERPT_LINES + 10): string[] {
  const first = s.reports[0];
  if (!first) return [];
  const lines = [...(first.excerpt ?? [first.line])];
  const covered = first.offset + lines.reduce((n, l) => n + l.length + 1, 0);
  const worst = s.reports.reduce((w, r) => (HEALTH_ORDER.indexOf(r.state) > HEALTH_ORDER.indexOf(w.state) ? r : w), first);
  if (worst !== first && worst.offset >= covered) lines.push('…', ...(worst.excerpt ?? [worst.line]).slice(0, Math.max(1, maxLines - lines.length - 1)));
  return lines.slice(0, maxLines);
}
