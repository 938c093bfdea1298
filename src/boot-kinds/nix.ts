// A guest without `image:`: flakevirt renders its NixOS configuration and builds the image through
// Nix (nixos-flake's libvirt backend); the build's qcow2 is the base of its overlay.
import type { Boot } from '../model.js';
import type { BootKind } from './kind.js';

type NixBoot = Extract<Boot, { kind: 'nix' }>;

export const nix: BootKind<NixBoot> = {
  name: 'nix',
  nixBuilt: true,
  nixBuild: { library: 'flakevirt-guest.nix', attr: 'image', output: 'nixos.qcow2' },
  rootDisk: true,
  image: () => undefined,
  ownKernel: () => undefined,
  describe: () => 'Nix-built image',
  // NixOS keeps python out of /usr/bin.
  // The last console= is /dev/console.
  consoleParams: ['console=tty0', 'console=ttyS0,115200'],
  inventoryVars: { ansible_python_interpreter: '/run/current-system/sw/bin/python3' },
  renderBase: () => ({ path: '/nix/store/<built by flakevirt build>/nixos.qcow2', id: 'unbuilt' }),
};
