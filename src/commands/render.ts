// flakevirt render GUEST: prints the rendered Nix files and domain XML, for debugging. The XML comes
// from the same desired-guest function `up` defines (render/guest.ts), with the facts of a host
// assumed rather than read: KVM, and libvirt's own NVMe bus only with --nvme native (up uses it
// when the host has it and no disk needs QEMU arguments; render follows the same rule).
import { renderNix } from '../render/nix.js';
import { desiredGuest } from '../render/guest.js';
import { factsFor } from '../render/state.js';
import { readTemplate } from '../adapters/templates.js';
import { kindOf } from '../host-kinds/kind.js';
import { loadFleet, pickGuests, print, printJson, type GlobalOptions } from './context.js';
import { bootKindOf } from '../boot-kinds/kind.js';

export interface RenderOptions extends GlobalOptions {
  guest: string;
  nvme?: 'native' | 'commandline';
}

export async function renderCommand(opts: RenderOptions): Promise<void> {
  const { fleet } = await loadFleet(opts);
  const guest = pickGuests(fleet.guests, [opts.guest])[0]!;
  // The guest's pinned host, else the fleet's first (placement needs the hosts themselves).
  const host = fleet.hosts.find((h) => h.name === guest.host) ?? fleet.hosts[0]!;
  const facts = factsFor({ kvm: true, nativeNvme: opts.nvme === 'native' }, guest);
  const base = bootKindOf(guest.boot).renderBase(guest.boot);
  const own = bootKindOf(guest.boot).ownKernel(guest.boot);
  const imageless = own && (await import('../boot-kinds/imageless.js')).renderImageless(own);
  const { xml } = desiredGuest({ fleet, guest, facts, base, paths: kindOf(host).paths(host, guest.name), templateText: await readTemplate(guest.template), ...(imageless && { imageless }) });
  const files: Record<string, string> = { ...renderNix(fleet, guest), 'domain.xml': xml };
  if (opts.json) return printJson(files);
  for (const [name, content] of Object.entries(files)) {
    print(`==> ${name} <==`);
    print(content.trimEnd());
    print();
  }
}
