// Offline Nix fixtures (plain JavaScript, so the benchmarks use them as the tests do): the REAL
// nixos-flake and nixpkgs' REAL lib (read at run time from ../shared/upstream/, never copied into the
// repository) wired to the nixpkgs stand-in of test/fixtures/nix/nixpkgs-standin, and a `nix`
// wrapper that logs every invocation. test/helpers/nix.ts gives it its types.
import { cpSync, mkdtempSync, readFileSync, writeFileSync, chmodSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the unmodified upstream sources live (absent on a user's fresh clone); FLAKEVIRT_UPSTREAM overrides. */
export const UPSTREAM = process.env.FLAKEVIRT_UPSTREAM ?? join(REPO_ROOT, '..', 'shared', 'upstream');

/** Why the real-library fixtures cannot be made here, or undefined. */
export function upstreamMissing() {
  for (const d of ['nixos-flake/flake.nix', 'nixpkgs-lib/lib/default.nix']) {
    if (!existsSync(join(UPSTREAM, d))) return `the upstream sources are not at ${UPSTREAM} (${d} missing)`;
  }
  return undefined;
}

/** A copy of a nixos-flake checkout at `to` whose one input, nixpkgs, is the checkout at `nixpkgs`. */
export function nixosFlakeOn(from, to, nixpkgs) {
  cpSync(from, to, { recursive: true });
  const flake = join(to, 'flake.nix');
  const text = readFileSync(flake, 'utf8');
  const pinned = /inputs\.nixpkgs\.url = "[^"]+";/;
  if (!pinned.test(text)) throw new Error(`${flake}: no inputs.nixpkgs.url line to point at ${nixpkgs}`);
  writeFileSync(flake, text.replace(pinned, `inputs.nixpkgs.url = "path:${nixpkgs}";`));
  rmSync(join(to, 'flake.lock'), { force: true }); // it pins GitHub
  return to;
}

/**
 * The fixture in a new directory under `parent`; with `userland` (the tiny guest's initrd.img) the
 * stand-in can build systems that boot (imageless closures: their init and initrd run the tiny
 * guest's busybox, udev and dropbear).
 */
export function nixFixture(parent, { userland } = {}) {
  const missing = upstreamMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(parent ?? '/var/tmp', 'flakevirt-nix-'));
  chmodSync(dir, 0o755);
  const nixpkgs = join(dir, 'nixpkgs');
  cpSync(join(REPO_ROOT, 'test', 'fixtures', 'nix', 'nixpkgs-standin'), nixpkgs, { recursive: true });
  cpSync(join(UPSTREAM, 'nixpkgs-lib', 'lib'), join(nixpkgs, 'lib'), { recursive: true });
  if (userland) writeFileSync(join(nixpkgs, 'userland.nix'), `${JSON.stringify(userland)}\n`);
  // The real library, its one input (nixpkgs, github:NixOS/nixpkgs/nixos-26.05) pointed at the
  // stand-in; its lock pins GitHub, so it goes.
  const nixosFlake = nixosFlakeOn(join(UPSTREAM, 'nixos-flake'), join(dir, 'nixos-flake'), nixpkgs);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'nix-calls.log');
  const realNix = execFileSync('sh', ['-c', 'command -v nix'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'nix'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${realNix}' "$@"\n`);
  chmodSync(join(bin, 'nix'), 0o755);
  const path = `${bin}:${process.env.PATH}`;
  return {
    dir, nixosFlake, nixpkgs, path, log,
    // No binary caches (offline), no build users, no sandbox: the stand-in builder calls the host's qemu-img.
    env: { PATH: path, NIX_CONFIG: 'substituters =\nbuild-users-group =\nsandbox = false\n' },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}
