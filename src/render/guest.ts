// The desired guest: everything `up` and `reimage` compare and define, from inputs gathered
// beforehand (host facts, the base image as the host sees it, where its files go, the template
// text). Pure. `render` prints the same XML from the same function.
import type { Fleet, Guest } from '../model.js';
import type { Desired } from '../plan.js';
import { renderDomain } from './domain.js';
import type { GuestPaths } from './paths.js';
import { fingerprint, guestState, type BaseImage, type HostFacts, type ImagelessBoot } from './state.js';

export interface GuestInputs {
  fleet: Fleet;
  /** The guest with its kernel and initrd named as the host sees them. */
  guest: Guest;
  facts: HostFacts;
  base: BaseImage;
  paths: GuestPaths;
  templateText: string;
  /** What an imageless guest boots (its kernel and closure); undefined for guests with a root disk. */
  imageless?: ImagelessBoot;
}

export interface DesiredGuest {
  xml: string;
  desired: Desired;
}

export function desiredGuest(i: GuestInputs): DesiredGuest {
  const xml = renderDomain({ fleet: i.fleet, guest: i.guest, host: i.facts, base: i.base, paths: i.paths, templateText: i.templateText, ...(i.imageless && { imageless: i.imageless }) });
  const state = guestState(i.fleet, i.guest, i.base, i.facts, i.templateText, i.imageless);
  return {
    xml,
    desired: {
      state,
      fingerprint: fingerprint(state),
      ...(!i.imageless && { root: i.paths.root }),
      disks: i.guest.disks.map((disk) => ({ disk, path: i.paths.disk(disk) })),
    },
  };
}
