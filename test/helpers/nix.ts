// Offline Nix fixtures (test/helpers/nix-fixture.mjs, shared with the benchmarks), typed.
import * as impl from './nix-fixture.mjs';

export interface NixFixture {
  dir: string;
  /** The copy of the real nixos-flake, its nixpkgs input pointed at the stand-in. */
  nixosFlake: string;
  /** The nixpkgs stand-in (with the real lib inside). */
  nixpkgs: string;
  /** PATH with the logging nix wrapper first. */
  path: string;
  log: string;
  env: Record<string, string>;
  /** nix invocations logged so far (argument strings). */
  calls(): string[];
}

/** Where the unmodified upstream sources live (absent on a user's fresh clone); FLAKEVIRT_UPSTREAM overrides. */
export const UPSTREAM: string = impl.UPSTREAM;

/** Why the real-library fixtures cannot be made here, or undefined. */
export const upstreamMissing: () => string | undefined = impl.upstreamMissing;

/** A copy of a nixos-flake checkout at `to` whose one input, nixpkgs, is the checkout at `nixpkgs`. */
export const nixosFlakeOn: (from: string, to: string, nixpkgs: string) => string = impl.nixosFlakeOn;

/**
 * The fixture; with `userland` (the tiny guest's initrd.img) the stand-in can build systems that boot
 * (imageless closures: their init and initrd run the tiny guest's busybox, udev and dropbear).
 */
export const nixFixture: (parent?: string, opts?: { userland?: string }) => NixFixture = impl.nixFixture;
