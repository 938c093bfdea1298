// The frame `up` and `reimage` share: load the spec, open libvirt, make sure the network and pool
// are usable, then run one locked operation per guest concurrently and print the results.
import { mkdir } from 'node:fs/promises';
import type { Guest } from '../model.js';
import { SpecError } from '../errors.js';
import { lockGuest } from '../adapters/lock.js';
import { checkQemuCanReach } from '../adapters/permissions.js';
import { loadFleet, pickGuests, type GlobalOptions } from './context.js';
import { Session } from './session.js';
import { forEachGuest, printResults, type GuestResult, type Progress } from './runner.js';
import { ProgressView } from './progress-view.js';

export interface GuestRunOptions extends GlobalOptions {
  guests?: string[];
  /** Re-pin the nixos-flake input before building. */
  update?: boolean;
}

export async function runPerGuest(
  opts: GuestRunOptions,
  op: (s: Session, guest: Guest, progress: Progress) => Promise<Omit<GuestResult, 'name' | 'ok' | 'seconds'>>,
): Promise<void> {
  const { fleet, dir } = await loadFleet(opts, { allowExample: true });
  const guests = pickGuests(fleet.guests, opts.guests);
  const s = await Session.open(fleet.connect, fleet);
  try {
    await s.network(fleet.network, { ensureActive: true });
    await mkdir(fleet.pool, { recursive: true, mode: 0o755 });
    if (s.lv.isLocal) await checkQemuCanReach(fleet.pool, (await s.host()).qemuLabel, 'pool');
    await checkHostQemu(s, guests);
    const view = new ProgressView(opts.json);
    await view.start();
    for (const g of guests) view.for(g.name);
    if (guests.some((g) => g.boot.kind === 'nix')) {
      const { buildImages } = await import('./build-images.js');
      const built = await buildImages(fleet, dir, guests, (name) => view.for(name), { update: opts.update ?? false });
      for (const [name, b] of built) s.built.set(name, b);
    }
    const results = await forEachGuest(guests, async (guest, progress) => {
      const lock = await lockGuest(`${fleet.pool}/.locks`, guest.name, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}, which holds this guest`) });
      try {
        return await op(s, guest, progress);
      } finally {
        await lock.release();
      }
    }, opts, view);
    view.finish();
    printResults(results, opts);
  } finally {
    await s.close();
  }
}

/** Refuses, before anything is created, disk fields this host's QEMU cannot provide (exit 2). */
async function checkHostQemu(s: Session, guests: Guest[]): Promise<void> {
  const { needsCapabilities, checkCapabilities } = await import('../capabilities.js');
  if (!needsCapabilities(guests) || !s.lv.isLocal) return;
  const emulator = (await s.host()).emulator;
  if (!emulator) return;
  const { qemuCaps } = await import('../adapters/qemu-caps.js');
  const issues = checkCapabilities(guests, await qemuCaps(emulator));
  if (issues.length) throw new SpecError(issues, 'this host cannot provide what the spec asks for');
}
