// flakevirt reimage [GUEST...]: a fresh root overlay on the current base image, extra disks kept.
import { RefusedError } from '../errors.js';
import { planReimage } from '../plan.js';
import { lockGuest } from '../adapters/lock.js';
import { loadFleet, pickGuests, type GlobalOptions } from './context.js';
import { Session } from './session.js';
import { observe } from './observe.js';
import { execute } from './execute.js';
import { forEachGuest, printResults } from './runner.js';

export interface ReimageOptions extends GlobalOptions {
  guests?: string[];
  wipeDisks?: boolean;
  timeout?: number;
}

export async function reimageCommand(opts: ReimageOptions): Promise<void> {
  const { fleet } = await loadFleet(opts, { allowExample: true });
  const guests = pickGuests(fleet.guests, opts.guests);
  const s = await Session.open(fleet.connect, fleet);
  try {
    const results = await forEachGuest(guests, async (guest, progress) => {
      const lock = await lockGuest(`${fleet.pool}/.locks`, guest.name, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}`) });
      try {
        const t = await s.target(guest);
        const { observed } = await observe(s, t);
        const plan = planReimage(guest.name, t.desired, observed, { wipeDisks: opts.wipeDisks ?? false });
        if (plan.kind !== 'act') throw new RefusedError(plan.reason);
        const lease = await execute(s, t, plan.actions, progress, { timeoutMs: (opts.timeout ?? 300) * 1000 });
        return { outcome: opts.wipeDisks ? 'reimaged, extra disks wiped' : 'reimaged, extra disks kept', ...(lease && { ip: lease.ip }), ...(plan.changes.length && { changes: plan.changes }) };
      } finally {
        await lock.release();
      }
    }, opts);
    printResults(results, opts);
  } finally {
    await s.close();
  }
}
