// A guest that boots the developer's own kernel without a disk image (nixos-flake's imageless
// backend, nix/imageless-contract.md): flakevirt builds the NixOS system closure through Nix, and the
// domain boots the kernel directly with the closure's initrd and init, the host's /nix/store and the
// kernel's modules shared over virtiofs, and a tmpfs root. Nothing persists but the extra disks.
import type { Boot, KernelSource } from '../model.js';
import type { ClosureBoot, ImagelessBoot as ImagelessInputs } from '../render/state.js';
import type { BootKind } from './kind.js';

/** The virtiofs tags the backend mounts /nix/store and /lib/modules by (modules/backends/imageless/default.nix:53-65). */
export const STORE_TAG = 'store';
export const MODULES_TAG = 'modules';

/**
 * The kernel command line: nixos-flake's (README.md:110-114) with the consoles the other way round,
 * so that /dev/console (the last console=: systemd's messages, the emergency shell) is the serial
 * port flakevirt logs and `flakevirt console` reads; hvc0 keeps its getty. Then the parameters
 * NixOS collected (boot.kernelParams, in boot.json): no boot loader puts them anywhere else.
 */
export function imagelessCmdline(c: ClosureBoot): string {
  return ['root=tmpfs', 'console=hvc0', 'console=ttyS0,115200', `init=${c.init}`, ...c.kernelParams].join(' ');
}

const STORE_FILE = /^\/nix\/store\/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+\/[A-Za-z0-9+._?=/-]+$/;
const PARAM = /^[\x21-\x7e]{1,4096}$/;

/**
 * The init, initrd and kernel parameters of a closure's boot.json (NixOS bootspec,
 * "org.nixos.bootspec.v1"); its `kernel` is nixpkgs' own kernel package and is never booted
 * (nix/imageless-contract.md, section 2.2). A string saying what is wrong when it is not that.
 */
export function parseBootspec(text: string): ClosureBoot | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `boot.json is not JSON (${(e as Error).message})`;
  }
  const v1 = (doc as Record<string, unknown> | null)?.['org.nixos.bootspec.v1'] as Record<string, unknown> | undefined;
  if (!v1 || typeof v1 !== 'object') return 'boot.json has no "org.nixos.bootspec.v1"';
  const { init, initrd, kernelParams = [] } = v1;
  const inStore = (f: unknown): f is string => typeof f === 'string' && STORE_FILE.test(f) && !f.split('/').some((x) => x === '..' || x === '.');
  if (!inStore(init)) return `boot.json's init is not a file in /nix/store (${JSON.stringify(init)})`;
  if (!inStore(initrd)) return `boot.json's initrd is not a file in /nix/store (${JSON.stringify(initrd)})`;
  if (!Array.isArray(kernelParams) || !kernelParams.every((p) => typeof p === 'string' && PARAM.test(p))) return 'boot.json\'s kernelParams is not a list of printable words';
  return { init, initrd, kernelParams: kernelParams as string[] };
}

type ImagelessBoot = Extract<Boot, { kind: 'imageless' }>;

/** The kernel image a source boots: a tree's arch/x86/boot/bzImage, or the bzImage named. */
export function bzImageOf(k: KernelSource): string {
  return 'tree' in k ? `${k.tree.replace(/\/+$/, '')}/arch/x86/boot/bzImage` : k.bzImage;
}

/** What `render` shows for an imageless guest without reading its kernel or building its closure. */
export function renderImageless(k: KernelSource): ImagelessInputs {
  return {
    bzImage: bzImageOf(k), release: '<release>', modules: 'tree' in k ? '<the tree\'s modules, installed by flakevirt up>' : k.modules, kernelId: 'unread',
    closure: { init: '/nix/store/<built by flakevirt build>-nixos-system/init', initrd: '/nix/store/<built by flakevirt build>-initrd/initrd', kernelParams: [] },
  };
}

/** How a kernel source reads in messages: the tree, or the bzImage. */
export function describeSource(k: KernelSource): string {
  return 'tree' in k ? `kernel tree ${k.tree}` : `kernel ${k.bzImage} (modules ${k.modules})`;
}

export const imageless: BootKind<ImagelessBoot> = {
  name: 'imageless',
  nixBuilt: true,
  nixBuild: { library: 'flakevirt-imageless.nix', attr: 'toplevel', output: 'boot.json' },
  rootDisk: false,
  // QEMU 10 does save such a guest (savevm succeeded here), but the state of its shares (the files
  // the guest has open on them) lives in virtiofsd, which no checkpoint holds.
  noCheckpoint: 'flakevirt does not checkpoint an imageless guest: the state of its virtiofs shares (the files it has open on /nix/store and /lib/modules) lives in virtiofsd, outside what a checkpoint saves; restart it instead (flakevirt reimage: a fresh boot, seconds for an imageless guest, its disks kept)',
  image: () => undefined,
  ownKernel: (b) => b.source,
  describe: (b) => `imageless, ${describeSource(b.source)}`,
  // NixOS keeps python out of /usr/bin.
  // Its command line names hvc0 and ttyS0 (imagelessCmdline).
  consoleParams: [],
  inventoryVars: { ansible_python_interpreter: '/run/current-system/sw/bin/python3' },
  renderBase: () => ({ path: '/nix/store/<built by flakevirt build>-nixos-system', id: 'unbuilt' }),
};
