// What is there now for a guest: its domain (ours or not, running or not) and its files.
import type { Observed } from '../plan.js';
import { domainFacts } from '../ownership.js';
import type { Session, GuestTarget } from './session.js';

export async function observe(s: Session, t: GuestTarget): Promise<{ observed: Observed; previousDisks: string[] }> {
  const store = await s.store();
  const [dom, previousDisks] = await Promise.all([s.lv.domain(t.guest.name), store.previousDisks(t.guest.name, t.paths)]);
  const existing = await store.existing([...new Set([t.paths.root, ...(t.paths.manifest ? [t.paths.manifest] : []), ...t.desired.disks.map((d) => d.path), ...previousDisks])]);
  const facts = dom ? domainFacts(dom.xml) : undefined;
  const owner = facts?.owner;
  const boot = dom?.running ? facts?.boot : undefined;
  return {
    observed: { existing, ...(dom && { domain: { running: dom.running, ...(owner && { owner }), ...(boot && { boot }), ...(facts?.checkpoints && { checkpoints: facts.checkpoints }) } }) },
    previousDisks,
  };
}
