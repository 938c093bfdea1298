# flakevirt's guest library: the flake outputs every rendered guest flake shares.
# The rendered flake.nix calls this with the guest's name, root disk size and ./default.nix.
# It is copied next to the rendered files (as flakevirt.nix) so the guest's flake is self-contained.
{ nixos-flake, nixpkgs, name, diskSizeMiB, module }:
let
  system = "x86_64-linux";
  machine = nixpkgs.lib.nixosSystem {
    inherit system;
    specialArgs = { inherit nixos-flake; };
    modules = [
      nixos-flake.nixosModules.backends.libvirt
      nixos-flake.nixosModules.user
      nixos-flake.nixosModules.mounts.storage
      module
    ];
  };
in
{
  nixosConfigurations.${name} = machine;
  # make-disk-image runs inside a VM (vmTools.runInLinuxVM): the builder needs the kvm system feature.
  packages.${system}.image = import "${nixpkgs}/nixos/lib/make-disk-image.nix" {
    inherit (machine) config pkgs;
    inherit (nixpkgs) lib;
    diskSize = diskSizeMiB;
    format = "qcow2";
    # The libvirt backend mounts /dev/vda1 as / and installs grub on /dev/vda (BIOS): legacy matches.
    partitionTableType = "legacy";
    installBootLoader = true;
  };
}
