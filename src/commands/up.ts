// flakevirt up [GUEST...]: from nothing (or from whatever a crash left) to running guests with leases.
import { RefusedError } from '../errors.js';
import { planUp } from '../plan.js';
import { lockGuest } from '../adapters/lock.js';
import { mkdir } from 'node:fs/promises';
import { checkQemuCanReach } from '../adapters/permissions.js';
import { loadFleet, pickGuests, type GlobalOptions } from './context.js';
import { Session } from './session.js';
import { observe } from './observe.js';
import { execute } from './execute.js';
import { forEachGuest, printResults } from './runner.js';

export interface UpOptions extends GlobalOptions {
  guests?: string[];
  timeout?: number;
}

export async function upCommand(opts: UpOptions): Promise<void> {
  const { fleet } = await loadFleet(opts, { allowExample: true });
  const guests = pickGuests(fleet.guests, opts.guests);
  const s = await Session.open(fleet.connect, fleet);
  try {
    await s.network(fleet.network, { ensureActive: true });
    await mkdir(fleet.pool, { recursive: true, mode: 0o755 });
    if (s.lv.isLocal) await checkQemuCanReach(fleet.pool, (await s.host()).qemuLabel, 'pool');
    const results = await forEachGuest(guests, async (guest, progress) => {
      const lock = await lockGuest(`${fleet.pool}/.locks`, guest.name, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}, which holds this guest`) });
      try {
        const t = await s.target(guest);
        const { observed, previousDisks } = await observe(s, t);
        const plan = planUp(guest.name, t.desired, observed, previousDisks);
        if (plan.kind === 'refuse') throw new RefusedError(plan.reason);
        if (plan.kind === 'noop') {
          const lease = await currentIp(s, guest.mac);
          return { outcome: plan.reason, ...(lease && { ip: lease }) };
        }
        for (const c of plan.changes) progress(`changed: ${c}`);
        const lease = await execute(s, t, plan.actions, progress, { timeoutMs: (opts.timeout ?? 300) * 1000 });
        const outcome = !observed.domain ? 'created' : plan.changes.length ? 'redefined' : 'started';
        return { outcome, ...(lease && { ip: lease.ip }), ...(plan.changes.length && { changes: plan.changes }) };
      } finally {
        await lock.release();
      }
    }, opts);
    printResults(results, opts);
  } finally {
    await s.close();
  }
}

async function currentIp(s: Session, mac: string): Promise<string | undefined> {
  const { currentLease } = await import('../leases.js');
  const net = await s.network(s.fleet!.network);
  return currentLease(await net.leases.read(), mac, Math.floor(Date.now() / 1000))?.ip;
}
