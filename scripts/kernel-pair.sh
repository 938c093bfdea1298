#!/usr/bin/env bash
# A kernel the way a developer has one after `make` and `make modules_install INSTALL_MOD_PATH=DIR`,
# made from a Debian cloud kernel package (test data for imageless guests) and cached:
#   <cache>/<package>/bzImage                 the kernel image
#   <cache>/<package>/config-<release>        its build configuration (where flakevirt looks beside a bzImage)
#   <cache>/<package>/lib/modules/<release>/  its modules, with modules.dep (depmod -b)
#   kernel-pair.sh tiny    the tiny test guest's kernel (6.12 from bookworm-backports)
#   kernel-pair.sh other   another 6.12 cloud kernel (a kernel swap)
#   kernel-pair.sh old     bookworm's 6.1 cloud kernel (virtio_pci and virtiofs are modules there)
# Prints the directory. Everything is fetched with apt-get download; nothing is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
which=${1:?usage: kernel-pair.sh tiny|other|old}
if [ "$(id -u)" = 0 ]; then root=/var/cache/flakevirt/kernels; else root="${XDG_CACHE_HOME:-$HOME/.cache}/flakevirt/kernels"; fi
root="${FLAKEVIRT_KERNELS_CACHE:-$root}"

tiny_release=$(cat "$("$here/tiny-guest.sh")/kernel-version")
case $which in
  tiny) pkg="linux-image-$tiny_release" ;;
  other)
    pkg=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$' | awk '{ print $1 }' | grep -vx "linux-image-$tiny_release" | sort -V | tail -n 1 || true) ;;
  old) pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-6\.1\./ && !k { k = $2 } END { print k }') ;;
  *) echo "kernel-pair: tiny, other or old, not $which" >&2; exit 2 ;;
esac
[ -n "$pkg" ] || { echo "kernel-pair: no package for \"$which\" in the package lists (run apt-get update)" >&2; exit 1; }
out="$root/$pkg"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && { apt-get download -q "$pkg" >/dev/null 2>&1 || apt-get download "$pkg" >&2; })
dpkg-deb -x "$work"/linux-image-*.deb "$work/x"
release=$(ls "$work/x/lib/modules" | sed -n 1p)
mkdir -p "$work/out/lib/modules"
cp "$work/x/boot/vmlinuz-$release" "$work/out/bzImage"
cp "$work/x/boot/config-$release" "$work/out/config-$release"
mv "$work/x/lib/modules/$release" "$work/out/lib/modules/$release"
depmod -b "$work/out" "$release"
chmod -R a+rX "$work/out"
mkdir -p "$root"
rm -rf "$out"
mv "$work/out" "$out"
echo "$release" > "$out/release"
touch "$out/.complete"
echo "$out"
