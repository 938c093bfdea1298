# flakevirt's library for imageless guests: the flake outputs every rendered imageless guest flake
# shares. The rendered flake.nix calls this with its inputs, the guest's name and ./default.nix; it is
# copied next to the rendered files (as flakevirt.nix) so the guest's flake is self-contained.
#
# It composes what nixos-flake's imageless template composes (templates/imageless/flake.nix:52-61 at
# kdevops 4b6bbb7f): the imageless backend, the user module, the library's overlay, the guest's
# default.nix, with `inputs` and `nixos-flake` in specialArgs, and exposes the system closure as
# packages.x86_64-linux.toplevel (:68). Its boot.json names the init and the initrd; the kernel is the
# developer's own (nix/imageless-contract.md, section 7). Where it differs from the template, and
# why, is listed in the README ("Your own kernel").
{ nixos-flake, nixpkgs, inputs, name, module }:
let
  system = "x86_64-linux";
  machine = nixpkgs.lib.nixosSystem {
    inherit system;
    specialArgs = { inherit inputs nixos-flake; };
    modules = [
      nixos-flake.nixosModules.backends.imageless
      nixos-flake.nixosModules.user
      { nixpkgs.overlays = [ nixos-flake.overlays.default ]; }
      # Not in the template: flakevirt's storage: DSL always needs it (as for image guests).
      nixos-flake.nixosModules.mounts.storage
      module
    ];
  };
in
{
  nixosConfigurations.${name} = machine;
  packages.${system}.toplevel = machine.config.system.build.toplevel;
}
