// flakevirt doctor's verdicts (pure): one line per check and host, with the fix; which checks the
// spec needs; the exit status. The facts come from commands/doctor.ts.
import { roughSize } from './spec/units.js';

export type CheckState = 'ok' | 'warn' | 'fail';

export interface Check {
  host: string;
  /** libvirt, qemu, kvm, network, pool, nix, virtiofsd, ssh. */
  check: string;
  state: CheckState;
  detail: string;
  fix?: string;
  /** The spec needs it: a failure makes the exit status 1. */
  needed: boolean;
}

/** 0 when every check the spec needs passes (warnings pass), else 1. */
export function doctorExit(checks: readonly Check[]): 0 | 1 {
  return checks.some((c) => c.needed && c.state === 'fail') ? 1 : 0;
}

/** The pool's free space against what the spec's guests there can grow to (their disks are sparse). */
export function poolVerdict(freeBytes: number, needBytes: number, dir: string): Pick<Check, 'state' | 'detail' | 'fix'> {
  const detail = `${roughSize(freeBytes)} free at ${dir}; the spec's guests here can grow to ${roughSize(needBytes)} (root disks and extra disks, all written)`;
  if (freeBytes >= needBytes) return { state: 'ok', detail };
  // Sparse files start empty: a pool that holds a tenth of it lets the guests start and run a while.
  if (freeBytes >= Math.min(needBytes / 10, 1 << 30)) return { state: 'warn', detail, fix: `free space at ${dir} or shrink the disks: a test that fills them fails with ENOSPC in the guest` };
  return { state: 'fail', detail, fix: `free space at ${dir}, or set pool: to a filesystem with room` };
}

/** "1.2.3" ≥ "1.2"? Numeric, part by part. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const b = min.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** The text report: a line per check, its fix under a check that is not ok. */
export function doctorText(checks: readonly Check[]): string {
  const hw = Math.max(4, ...checks.map((c) => c.host.length));
  const cw = Math.max(5, ...checks.map((c) => c.check.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.host.padEnd(hw)}  ${c.check.padEnd(cw)}  ${c.state.padEnd(4)}  ${c.detail}${c.needed || c.state === 'ok' ? '' : ' (the spec does not need it)'}`);
    if (c.fix && c.state !== 'ok') lines.push(`${' '.repeat(hw + cw + 10)}fix: ${c.fix}`);
  }
  return `${lines.join('\n')}\n`;
}
