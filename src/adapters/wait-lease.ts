// Waits for the DHCP lease of this boot: event-driven on a local status file, polled otherwise,
// failing at once if the domain stops, and after a bounded time with the console's last lines.
import { ToolError } from '../errors.js';
import { freshLease, type Lease } from '../leases.js';
import type { LeaseSource } from './lease-source.js';
import { consoleTail } from './console-log.js';
import { reportExcerpt, type Health, type ScanState } from '../health/reports.js';
import { printable } from '../escape/terminal.js';

export interface WaitLease {
  guest: string;
  mac: string;
  network: string;
  startedAt: number;
  leaseTime: number;
  before: ReadonlyMap<string, number>;
  timeoutMs: number;
  consoleLog?: string;
  readConsole: () => Promise<string | undefined>;
  /** libvirt state of the domain ("running", "shut off", …), or undefined when it is gone. */
  domainState: () => Promise<string | undefined>;
  /** This boot's kernel reports, followed while waiting: a panic fails the wait at once. */
  kernel?: { health(): Promise<Health | undefined>; reports(): Promise<ScanState | undefined> };
}

/** Expiry of each of `mac`'s leases by IP, taken just before a start. */
export function leaseSnapshot(leases: Lease[], mac: string): Map<string, number> {
  return new Map(leases.filter((l) => l.mac === mac.toLowerCase()).map((l) => [l.ip, l.expiry]));
}

export function waitForLease(source: LeaseSource, w: WaitLease): Promise<Lease> {
  return new Promise((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      unwatch();
      clearInterval(poll);
      clearInterval(stateTimer);
      clearTimeout(timer);
      f();
    };
    const check = async () => {
      if (done) return;
      if (checking) return void (again = true);
      checking = true;
      try {
        const lease = freshLease(await source.read(), w);
        if (lease) finish(() => resolve(lease));
      } catch {
        // transient read error: the next event or poll retries
      } finally {
        checking = false;
        if (again) {
          again = false;
          void check();
        }
      }
    };
    const fail = async (why: string) => {
      const tail = await consoleTail(w.consoleLog, w.readConsole);
      finish(() => reject(new ToolError({ message: `${w.guest}: ${why}\n  last console lines (${w.consoleLog ?? 'none'}):\n${tail}`, command: `wait for DHCP lease of ${w.mac} on ${w.network}` })));
    };
    const panicked = async () => {
      const scan = await w.kernel!.reports();
      const first = scan?.reports[0];
      const panic = scan?.reports.find((r) => r.state === 'panic');
      const lines = scan ? reportExcerpt(scan).map((l) => `    | ${printable(l)}`).join('\n') : '';
      finish(() => reject(new ToolError({
        message: `${w.guest}: the kernel panicked before the guest got a DHCP lease: ${printable(panic?.line ?? first?.line ?? 'Kernel panic')}\n  console log ${w.consoleLog ?? ''} (this boot from byte ${scan?.bootAt ?? 0}; all its reports: flakevirt health ${w.guest}):\n${lines}`,
        command: `wait for DHCP lease of ${w.mac} on ${w.network}`,
      })));
    };
    const unwatch = source.watch(() => void check());
    const poll = setInterval(() => void check(), source.kind === 'virsh' ? 500 : 1000);
    let watching = false;
    const stateTimer = setInterval(async () => {
      if (watching || done) return;
      watching = true;
      try {
        if (w.kernel && (await w.kernel.health())?.state === 'panic') return void (await panicked());
        const state = await w.domainState().catch(() => 'running');
        if (done) return;
        if (state === undefined) void fail('the domain disappeared while waiting for its DHCP lease');
        else if (state === 'shut off' || state === 'crashed') void fail(`the guest ${state === 'crashed' ? 'crashed' : 'shut off'} before it got a DHCP lease`);
      } finally {
        watching = false;
      }
    }, 1000);
    const timer = setTimeout(() => void fail(`no DHCP lease for MAC ${w.mac} on network ${w.network} within ${Math.round(w.timeoutMs / 1000)} s of starting`), w.timeoutMs);
    void check();
  });
}
