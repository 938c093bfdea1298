// Offline Nix fixtures: copies of the nixos-flake and nixpkgs stand-ins wired together by absolute
// path, and a `nix` wrapper that logs every invocation (to assert when nix did no work).
import { cpSync, mkdtempSync, readFileSync, writeFileSync, chmodSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fixture } from './fixtures.js';

export interface NixFixture {
  dir: string;
  nixosFlake: string;
  /** PATH with the logging nix wrapper first. */
  path: string;
  log: string;
  env: Record<string, string>;
  /** nix invocations logged so far (argument strings). */
  calls(): string[];
}

export function nixFixture(parent?: string): NixFixture {
  const dir = mkdtempSync(join(parent ?? '/var/tmp', 'flakevirt-nix-'));
  chmodSync(dir, 0o755);
  cpSync(fixture('nix'), dir, { recursive: true });
  const flake = join(dir, 'nixos-flake-stub', 'flake.nix');
  writeFileSync(flake, readFileSync(flake, 'utf8').replace('@NIXPKGS@', `path:${join(dir, 'nixpkgs-stub')}`));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'nix-calls.log');
  const realNix = execFileSync('sh', ['-c', 'command -v nix'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'nix'), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${realNix}' "$@"\n`);
  chmodSync(join(bin, 'nix'), 0o755);
  const path = `${bin}:${process.env.PATH}`;
  return {
    dir, nixosFlake: join(dir, 'nixos-flake-stub'), path, log,
    // No binary caches (offline), no build users, no sandbox: the stub builder calls the host's qemu-img.
    env: { PATH: path, NIX_CONFIG: 'substituters =\nbuild-users-group =\nsandbox = false\n' },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []),
  };
}
