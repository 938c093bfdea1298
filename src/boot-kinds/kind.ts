// What a kind of boot is to flakevirt: everything that differs between a guest that boots a
// prebuilt image and one whose image flakevirt builds through Nix, behind one interface, one module
// per kind (image.ts, nix.ts). The kind is decided once, when the spec is normalized
// (spec/normalize.ts); code that depends on it asks bootKindOf(guest.boot) and never the kind's name.
// Adding a kind: a module implementing BootKind, its member of the Boot union (model.ts) and its
// line in bootKindOf. Pure.
import type { Boot, KernelSource } from '../model.js';
import type { BaseImage } from '../render/state.js';
import { image } from './image.js';
import { nix } from './nix.js';
import { imageless } from './imageless.js';

/** How flakevirt builds a kind's guests through Nix: its library, the flake output, what a finished build holds. */
export interface NixBuild {
  /** The library in nix/ copied into each guest's configuration directory (as flakevirt.nix). */
  library: string;
  /** The flake's package: packages.x86_64-linux.<attr>. */
  attr: string;
  /** The file in the build's store path that says it is complete. */
  output: string;
}

export interface BootKind<B extends Boot = Boot> {
  readonly name: B['kind'];
  /** flakevirt builds the guest's image through Nix (`build`, up's build step, build groups). */
  readonly nixBuilt: boolean;
  /** How, when nixBuilt. */
  readonly nixBuild?: NixBuild;
  /** The guest has a root disk (an overlay on a base image); an imageless guest's root is a tmpfs. */
  readonly rootDisk: boolean;
  /** The prebuilt image the spec names, when there is one: checked when the spec is loaded, and before up. */
  image(b: B): string | undefined;
  /** The developer's own kernel the guest boots (imageless), when there is one: checked when the spec is loaded. */
  ownKernel(b: B): KernelSource | undefined;
  /** How `validate` names what the guest boots. */
  describe(b: B): string;
  /** Why a guest of this kind cannot take a checkpoint, when it cannot. */
  readonly noCheckpoint?: string;
  /**
   * Kernel parameters its NixOS configuration gets so the kernel writes to the serial port flakevirt
   * logs (kernel health reads the reports there): NixOS names no serial console on its own. Empty
   * when flakevirt writes the command line itself (imageless) or builds no configuration.
   */
  readonly consoleParams: readonly string[];
  /** Ansible host variables a guest of this kind needs. */
  readonly inventoryVars: Readonly<Record<string, string>>;
  /** The base `render` shows, without building anything. */
  renderBase(b: B): BaseImage;
}

type KindFor<K extends Boot['kind']> = BootKind<Extract<Boot, { kind: K }>>;
const KINDS: { [K in Boot['kind']]: KindFor<K> } = { image, nix, imageless };

/** The kind of a guest's boot. */
export function bootKindOf<B extends Boot>(b: B): BootKind<B> {
  return KINDS[b.kind] as unknown as BootKind<B>;
}
