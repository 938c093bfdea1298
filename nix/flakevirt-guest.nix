# flakevirt's guest library: the flake outputs every rendered guest flake shares.
# The rendered flake.nix calls this with its inputs, the guest's name, root disk size and ./default.nix.
# It is copied next to the rendered files (as flakevirt.nix) so the guest's flake is self-contained.
#
# It composes what nixos-flake's libvirt template composes (templates/libvirt/flake.nix:53-76 at
# kdevops 4b6bbb7f): the libvirt backend, the user module, the library's overlay, the guest's
# default.nix, with `inputs` and `nixos-flake` in specialArgs; make-disk-image gets a plain
# `import nixpkgs { inherit system; }`, qcow2, legacy partitions and the boot loader. Where it differs
# from the template, and why, is listed in the README ("Nix-built images").
{ nixos-flake, nixpkgs, inputs, name, diskSizeMiB, module }:
let
  system = "x86_64-linux";
  pkgs = import nixpkgs { inherit system; };
  machine = nixpkgs.lib.nixosSystem {
    inherit system;
    specialArgs = { inherit inputs nixos-flake; };
    modules = [
      nixos-flake.nixosModules.backends.libvirt
      nixos-flake.nixosModules.user
      { nixpkgs.overlays = [ nixos-flake.overlays.default ]; }
      # Not in the template: flakevirt's storage: DSL always needs it (the template's default.nix
      # would import it itself when it uses nixos-flake.storage).
      nixos-flake.nixosModules.mounts.storage
      module
    ];
  };
in
{
  nixosConfigurations.${name} = machine;
  # make-disk-image runs inside a VM (vmTools.runInLinuxVM): the builder needs the kvm system feature.
  packages.${system}.image = import "${nixpkgs}/nixos/lib/make-disk-image.nix" {
    inherit pkgs;
    inherit (pkgs) lib;
    inherit (machine) config;
    diskSize = diskSizeMiB;
    format = "qcow2";
    # The libvirt backend mounts /dev/vda1 as / and installs grub on /dev/vda (BIOS): legacy matches.
    partitionTableType = "legacy";
    installBootLoader = true;
  };
}
