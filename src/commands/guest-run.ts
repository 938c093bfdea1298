// The frame `up` and `reimage` share: load the spec, connect to every host, place the guests, make
// each host's network and pool usable, build Nix images, then run one locked operation per guest
// concurrently and print the results. A host that fails fails only its own guests.
import { memoryText, type PlacementHost } from '../placement.js';
import type { Guest } from '../model.js';
import { SpecError, type SpecIssue } from '../errors.js';
import { lockGuest } from '../adapters/lock.js';
import { kindOf } from '../host-kinds/kind.js';
import { hostsFor, loadFleet, pickGuests, print, printJson, type GlobalOptions } from './context.js';
import type { Session } from './session.js';
import { Hosts, hostError, placeFleet } from './hosts.js';
import { forEachGuest, printResults, type GuestResult, type Progress } from './runner.js';
import { ProgressView } from './progress-view.js';
import { formatSize } from '../spec/units.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export interface GuestRunOptions extends GlobalOptions {
  guests?: string[];
  /** Re-pin the nixos-flake input before building. */
  update?: boolean;
  /** Print where each guest goes and stop. */
  dryRun?: boolean;
}

export async function runPerGuest(
  opts: GuestRunOptions,
  op: (s: Session, guest: Guest, progress: Progress) => Promise<Omit<GuestResult, 'name' | 'ok' | 'seconds'>>,
): Promise<void> {
  const { fleet, dir } = await loadFleet(opts, { allowExample: 'prepare' });
  const picked = pickGuests(fleet.guests, opts.guests);
  const selected = new Set(hostsFor(opts, fleet).map((h) => h.name));
  const opening = Hosts.open(fleet.hosts, fleet);
  // Imageless guests' kernels are hashed (by content) while libvirt answers.
  const kernels = picked.flatMap((g) => { const k = bootKindOf(g.boot).ownKernel(g.boot); return k ? [k] : []; });
  if (kernels.length) void import('../adapters/kernel.js').then((m) => kernels.forEach((k) => m.kernelContent(k)));
  const hosts = await opening;
  try {
    const { placement, capacity, commit } = await placeFleet(fleet, hosts, { save: false });
    const hostOf = (g: Guest) => placement.hostOf.get(g.name)!;
    const guests = picked.filter((g) => selected.has(hostOf(g)));
    if (opts.dryRun) return printPlacement(guests, hostOf, (g) => placement.why.get(g.name)!, capacity, opts.json);
    // Every check that can refuse what the spec asks for runs before anything is written.
    await refuseEarly(hosts, guests, hostOf);
    await commit();
    // Each host gets ready once, in parallel; its guests wait for it and share its failure.
    const ready = new Map<string, Promise<Session>>();
    for (const name of new Set(guests.map(hostOf))) {
      const p = (async () => {
        const s = hosts.session(name);
        try {
          await s.prepare();
        } catch (e) {
          throw e instanceof SpecError ? e : hostError(s.host, e);
        }
        return s;
      })();
      p.catch(() => undefined);
      ready.set(name, p);
    }
    const view = new ProgressView(opts.json);
    await view.start();
    for (const g of guests) view.for(g.name);
    const buildable = guests.filter((g) => bootKindOf(g.boot).nixBuilt && hosts.get(hostOf(g)).session);
    if (buildable.length) {
      const { buildImages } = await import('./build-images.js');
      const built = await buildImages(fleet, dir, buildable, (name) => view.for(name), { update: opts.update ?? false });
      for (const l of hosts.links) for (const [name, b] of built) l.session?.built.set(name, b);
    }
    const results = await forEachGuest(guests, async (guest, progress) => {
      const s = await ready.get(hostOf(guest))!;
      const lock = await lockGuest(s.host.connect, guest.name, { onWait: (pid) => progress(`waiting for flakevirt process ${pid}, which holds this guest`) });
      try {
        return { ...(await op(s, guest, progress)), host: s.host.name };
      } finally {
        await lock.release();
      }
    }, opts, view);
    view.finish();
    for (const r of results) r.host ??= placement.hostOf.get(r.name);
    printResults(results, { ...opts, showHost: fleet.hosts.length > 1 });
  } finally {
    await hosts.close();
  }
}

/** `up --dry-run` / `flakevirt plan`: guest → host, and why. */
function printPlacement(guests: Guest[], hostOf: (g: Guest) => string, why: (g: Guest) => string, capacity: PlacementHost[], json = false): void {
  const rows = guests.map((g) => ({ guest: g.name, host: hostOf(g), why: why(g), memoryBytes: g.memoryBytes, vcpus: g.vcpus }));
  if (json) return printJson({ guests: rows, hosts: capacity.map(({ runsImageless: _, ...h }) => h) });
  const w = Math.max(5, ...rows.map((r) => r.guest.length));
  const hw = Math.max(4, ...rows.map((r) => r.host.length), ...capacity.map((h) => h.name.length));
  print(`${'GUEST'.padEnd(w)}  ${'HOST'.padEnd(hw)}  ${'MEMORY'.padEnd(8)}  VCPUS  WHY`);
  for (const r of rows) print(`${r.guest.padEnd(w)}  ${r.host.padEnd(hw)}  ${formatSize(r.memoryBytes).padEnd(8)}  ${String(r.vcpus).padEnd(5)}  ${r.why}`);
  // Each host's memory for the fleet, and how it came about: what placement compared the guests with.
  print('');
  print(`${'HOST'.padEnd(hw)}  MEMORY FOR THE SPEC'S GUESTS`);
  for (const h of capacity.filter((c) => rows.some((r) => r.host === c.name))) {
    const here = rows.filter((r) => r.host === h.name);
    const used = here.reduce((a, r) => a + r.memoryBytes, 0);
    print(`${h.name.padEnd(hw)}  ${memoryText(h)}; its guests here take ${formatSize(used)} (${here.length} guest${here.length === 1 ? '' : 's'})`);
  }
}


/**
 * The spec refusals that need a host or a file to tell (exit 2), for every reachable host at once:
 * disk fields a host's QEMU cannot provide, base images with a backing file of their own. A host
 * that cannot be asked is left to fail its own guests later.
 */
async function refuseEarly(hosts: Hosts, guests: Guest[], hostOf: (g: Guest) => string): Promise<void> {
  const issues: SpecIssue[] = [];
  await Promise.all([...new Set(guests.map(hostOf))].map(async (name) => {
    const s = hosts.get(name).session;
    if (!s) return;
    const mine = guests.filter((g) => hostOf(g) === name);
    try {
      await checkHostQemu(s, mine);
    } catch (e) {
      if (e instanceof SpecError) issues.push(...e.issues);
    }
    // An image that cannot be read at all fails its guest later, with the tool's error.
    for (const g of mine) issues.push(...(await s.imageIssues(g).catch(() => [])));
    const imageless = mine.filter((g) => bootKindOf(g.boot).ownKernel(g.boot));
    if (imageless.length) {
      const { imagelessHostProblem } = await import('./session.js');
      const r = await imagelessHostProblem(s.host);
      if ('problem' in r) for (const g of imageless) issues.push({ path: `guests.${g.name}`, message: r.problem });
    }
  }));
  if (issues.length) throw new SpecError(issues, 'this host cannot provide what the spec asks for');
}

/** Refuses, before anything is created, disk fields this host's QEMU cannot provide (exit 2). */
async function checkHostQemu(s: Session, guests: Guest[]): Promise<void> {
  const { needsCapabilities, checkCapabilities } = await import('../capabilities.js');
  if (!needsCapabilities(guests)) return;
  const emulator = (await s.info()).emulator;
  if (!emulator) return;
  const caps = await kindOf(s.host).qemuCaps(emulator, s.host).catch(() => undefined); // a probe that fails leaves the check to libvirt at start
  if (!caps) return;
  const issues = checkCapabilities(guests, caps);
  if (issues.length) throw new SpecError(issues, 'this host cannot provide what the spec asks for');
}
