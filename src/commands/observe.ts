// What is there now for a guest: its domain (ours or not, running or not) and its files.
import type { Observed } from '../plan.js';
import { domainFacts } from '../ownership.js';
import { exists } from '../adapters/disks.js';
import { readManifest } from '../adapters/guest-dir.js';
import type { Session, GuestTarget } from './session.js';

export async function observe(s: Session, t: GuestTarget): Promise<{ observed: Observed; previousDisks: string[] }> {
  const dom = await s.lv.domain(t.guest.name);
  const manifest = await readManifest(t.paths);
  const candidates = new Set([t.paths.root, t.paths.manifest, ...t.desired.disks.map((d) => d.path), ...(manifest?.files ?? [])]);
  const existing = new Set<string>();
  for (const f of candidates) if (await exists(f)) existing.add(f);
  const owner = dom ? domainFacts(dom.xml).owner : undefined;
  const previousDisks = (manifest?.files ?? []).filter((f) => f !== t.paths.root && f !== t.paths.console);
  return {
    observed: { existing, ...(dom && { domain: { running: dom.running, ...(owner && { owner }) } }) },
    previousDisks,
  };
}
