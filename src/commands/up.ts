// flakevirt up [GUEST...]: from nothing (or from whatever a crash left) to running guests with leases.
import { RefusedError } from '../errors.js';
import { planUp } from '../plan.js';
import { currentLease } from '../leases.js';
import type { Session } from './session.js';
import { observe } from './observe.js';
import { execute } from './execute.js';
import { runPerGuest, type GuestRunOptions } from './guest-run.js';
import { kernelWarning } from './health.js';

export interface UpOptions extends GuestRunOptions {
  timeout?: number;
  /** "ssh": also wait until the guest's ssh server answers. */
  wait?: 'lease' | 'ssh';
}

export async function upCommand(opts: UpOptions): Promise<void> {
  await runPerGuest(opts, async (s, guest, progress) => {
    const t = await s.target(guest, progress);
    const { observed, previousDisks } = await observe(s, t);
    const plan = planUp(guest.name, t.desired, observed, previousDisks);
    if (plan.kind === 'refuse') throw new RefusedError(plan.reason);
    if (plan.kind === 'noop') {
      const ip = await currentIp(s, guest.mac);
      if (ip) await waitSsh(s, guest.name, ip, opts, progress);
      const warning = await kernelWarning(await s.store(), t.paths, guest.name, observed.domain?.boot?.logFrom);
      return { outcome: plan.reason, ...(ip && { ip }), ...(warning && { warnings: [warning] }) };
    }
    if (plan.why) progress(plan.why);
    for (const c of plan.changes) progress(`changed: ${c}`);
    const lease = await execute(s, t, plan.actions, progress, { timeoutMs: (opts.timeout ?? 300) * 1000 });
    if (lease) await waitSsh(s, guest.name, lease.ip, opts, progress);
    const outcome = !observed.domain ? 'created' : plan.changes.length ? 'redefined' : plan.actions[0]?.kind === 'wait-lease' ? 'lease confirmed' : 'started';
    const resumed = plan.actions.find((a) => a.kind === 'wait-lease' && a.resume);
    const warning = lease && (await kernelWarning(await s.store(), t.paths, guest.name, resumed?.kind === 'wait-lease' ? resumed.resume?.logFrom : undefined));
    return { outcome, ...(lease && { ip: lease.ip }), ...(plan.changes.length && { changes: plan.changes }), ...(warning && { warnings: [warning] }) };
  });
}

/** With --wait ssh: until the guest's ssh server answers (also for a guest that was up already). */
async function waitSsh(s: Session, name: string, ip: string, opts: UpOptions, progress: (m: string) => void): Promise<void> {
  if (opts.wait !== 'ssh') return;
  progress(`waiting for ssh on ${ip}`);
  const { waitForSsh } = await import('../adapters/wait-ssh.js');
  progress(`ssh answers: ${await waitForSsh(name, ip, (opts.timeout ?? 300) * 1000, { ...(s.host.jump && { jump: s.host.jump }) })}`);
}

async function currentIp(s: Session, mac: string): Promise<string | undefined> {
  const net = await s.network(s.fleet!.network);
  return currentLease(await net.leases.read(), mac, Math.floor(Date.now() / 1000))?.ip;
}
