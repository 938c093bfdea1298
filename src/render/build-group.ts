// Which guests can share one Nix build: those whose rendered image inputs are equal. Pure.
import { createHash } from 'node:crypto';
import type { Fleet, Guest } from '../model.js';
import { renderNix } from './nix.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export interface BuildGroup {
  key: string;
  /** The guest whose configuration directory is built; the others reuse its image. */
  builder: Guest;
  guests: Guest[];
}

/** The build's inputs without identity: what is built (the kind's library), default.nix, disk size, the nixos-flake reference. */
export function buildKey(fleet: Fleet, guest: Guest): string {
  const { 'default.nix': config } = renderNix(fleet, guest);
  const kind = bootKindOf(guest.boot);
  return createHash('sha256').update(JSON.stringify([kind.nixBuild?.library, config, kind.rootDisk ? guest.diskSizeBytes : 0, fleet.nixosFlake])).digest('hex').slice(0, 16);
}

/** Groups the Nix-built guests; guests in a group are sorted by name, groups by their builder. */
export function buildGroups(fleet: Fleet, guests: Guest[]): BuildGroup[] {
  const by = new Map<string, Guest[]>();
  for (const g of guests.filter((x) => bootKindOf(x.boot).nixBuilt).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const k = buildKey(fleet, g);
    by.set(k, [...(by.get(k) ?? []), g]);
  }
  return [...by.entries()].map(([key, gs]) => ({ key, builder: gs[0]!, guests: gs }));
}
