// Renders a fleet's guest with fixed host facts, for golden and hostile-value tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fleet, Guest } from '../../src/model.js';
import { renderDomain } from '../../src/render/domain.js';
import type { HostFacts } from '../../src/render/state.js';
import { REPO_ROOT } from './fixtures.js';
import { guestPaths } from '../../src/render/paths.js';

export const Q35 = readFileSync(join(REPO_ROOT, 'domain-templates', 'q35.xml'), 'utf8');

export function guest(fleet: Fleet, name: string): Guest {
  const g = fleet.guests.find((x) => x.name === name);
  if (!g) throw new Error(`no guest ${name}`);
  return g;
}

export function domainXml(fleet: Fleet, name: string, host: Partial<HostFacts> = {}): string {
  const g = guest(fleet, name);
  const base = g.boot.kind === 'image' ? { path: g.boot.image, id: `file:${g.boot.image}` } : { path: '/nix/store/0000000000000000000000000000000a-nixos-disk-image/nixos.qcow2', id: '0000000000000000000000000000000a' };
  return renderDomain({ fleet, guest: g, host: { domainType: g.accel === 'tcg' ? 'qemu' : 'kvm', nvme: 'commandline', ...host }, base, paths: guestPaths(fleet.pool, g.name), templateText: Q35 });
}
