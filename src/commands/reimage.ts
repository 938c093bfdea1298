// flakevirt reimage [GUEST...]: a fresh root overlay on the current base image, extra disks kept.
import { RefusedError } from '../errors.js';
import { planReimage } from '../plan.js';
import { observe } from './observe.js';
import { execute } from './execute.js';
import { runPerGuest, type GuestRunOptions } from './guest-run.js';
import { kernelWarning } from './health.js';

export interface ReimageOptions extends GuestRunOptions {
  wipeDisks?: boolean;
  timeout?: number;
}

export async function reimageCommand(opts: ReimageOptions): Promise<void> {
  await runPerGuest(opts, async (s, guest, progress) => {
    const t = await s.target(guest, progress);
    const { observed } = await observe(s, t);
    const plan = planReimage(guest.name, t.desired, observed, { wipeDisks: opts.wipeDisks ?? false });
    if (plan.kind !== 'act') throw new RefusedError(plan.reason);
    const lease = await execute(s, t, plan.actions, progress, { timeoutMs: (opts.timeout ?? 300) * 1000 });
    const warning = lease && (await kernelWarning(await s.store(), t.paths, guest.name));
    return { outcome: opts.wipeDisks ? 'reimaged, extra disks wiped' : 'reimaged, extra disks kept', ...(lease && { ip: lease.ip }), ...(plan.changes.length && { changes: plan.changes }), ...(warning && { warnings: [warning] }) };
  });
}
