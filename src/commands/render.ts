// flakevirt render GUEST: prints the rendered Nix files and domain XML, for debugging.
import { renderNix } from '../render/nix.js';
import { renderDomain } from '../render/domain.js';
import type { HostFacts } from '../render/state.js';
import { readTemplate } from '../adapters/templates.js';
import { guestPaths } from '../render/paths.js';
import { loadFleet, pickGuests, print, printJson, type GlobalOptions } from './context.js';

export interface RenderOptions extends GlobalOptions {
  guest: string;
  nvme?: 'native' | 'commandline';
}

export async function renderCommand(opts: RenderOptions): Promise<void> {
  const { fleet } = await loadFleet(opts);
  const [guest] = pickGuests(fleet.guests, [opts.guest]);
  const host: HostFacts = { domainType: guest!.accel === 'tcg' ? 'qemu' : 'kvm', nvme: opts.nvme ?? 'commandline' };
  const base = guest!.boot.kind === 'image' ? { path: guest!.boot.image, id: guest!.boot.image } : { path: '/nix/store/<built by flakevirt build>/nixos.qcow2', id: 'unbuilt' };
  const files: Record<string, string> = { ...renderNix(fleet, guest!), 'domain.xml': renderDomain({ fleet, guest: guest!, host, base, paths: guestPaths(fleet.pool, guest!.name), templateText: await readTemplate(guest!.template) }) };
  if (opts.json) return printJson(files);
  for (const [name, content] of Object.entries(files)) {
    print(`==> ${name} <==`);
    print(content.trimEnd());
    print();
  }
}
