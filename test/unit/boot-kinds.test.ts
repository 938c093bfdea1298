// Boot kinds: what differs between a prebuilt-image guest and a Nix-built one lives in
// src/boot-kinds/, and nothing else in src/ asks a guest which kind it is.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootKindOf } from '../../src/boot-kinds/kind.js';
import { fleetFrom, REPO_ROOT } from '../helpers/fixtures.js';

const fleet = fleetFrom('guests:\n  pre: { image: /b.qcow2 }\n  built: { profiles: [devel] }\n');
const [pre, built] = [fleet.guests.find((g) => g.name === 'pre')!, fleet.guests.find((g) => g.name === 'built')!];

describe('boot kinds', () => {
  it('are decided when the spec is normalized: image: makes a prebuilt-image guest, its absence a Nix-built one', () => {
    expect(bootKindOf(pre.boot).name).toBe('image');
    expect(bootKindOf(built.boot).name).toBe('nix');
  });
  it('a prebuilt image is checked and used as it is; nothing is built', () => {
    const k = bootKindOf(pre.boot);
    expect([k.nixBuilt, k.image(pre.boot), k.describe(pre.boot), k.inventoryVars]).toEqual([false, '/b.qcow2', 'image /b.qcow2', {}]);
    expect(k.renderBase(pre.boot)).toEqual({ path: '/b.qcow2', id: '/b.qcow2' });
  });
  it('a Nix-built guest is built, has no image to check first, and gets NixOS\'s python for Ansible', () => {
    const k = bootKindOf(built.boot);
    expect([k.nixBuilt, k.image(built.boot), k.describe(built.boot)]).toEqual([true, undefined, 'Nix-built image']);
    expect(k.inventoryVars).toEqual({ ansible_python_interpreter: '/run/current-system/sw/bin/python3' });
  });
  it('no file outside src/boot-kinds/ asks a guest which kind of boot it has', () => {
    const src = join(REPO_ROOT, 'src');
    const ASKS = /\bboot\.kind\b|kind\s*[!=]==\s*'(nix|image|imageless)'/;
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.startsWith('boot-kinds/') && !f.startsWith('host-kinds/'));
    const hits = files.flatMap((f) => readFileSync(join(src, f), 'utf8').split('\n').map((l, i) => `${f}:${i + 1}: ${l.trim()}`).filter((l) => !/^\S+:\d+: (\/\/|\*|\/\*\*)/.test(l) && ASKS.test(l)));
    expect(hits).toEqual([]);
  });
});
