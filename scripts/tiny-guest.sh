#!/usr/bin/env bash
# Builds flakevirt's tiny test guest from Debian packages and caches it:
#   <cache>/vmlinuz      a Debian cloud kernel (6.12 from bookworm-backports when available)
#   <cache>/initrd.img   busybox-static + the virtio modules + Debian 12's systemd-udevd with its stock
#                        rules; its /init runs udev, lists the block devices (with their queue limits)
#                        and their /dev/disk/by-id and /dev/flakevirt links, then gets a DHCP lease
#   <cache>/base.qcow2   an empty 1 GiB qcow2 to serve as the root disk's base image
#   <cache>/config       the kernel's build configuration, as Debian ships it (test data)
# The guest also runs dropbear (an ssh server) when the kernel command line carries
# fv.user=NAME and fv.sshkey=BASE64 (an authorized_keys line, base64-encoded): root and NAME
# then accept that key.
# Prints the cache directory. Rebuilds only when missing (FLAKEVIRT_TINY_REBUILD=1 forces it).
# Nothing here is committed as a binary: it is all fetched with apt-get download.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then default_cache=/var/cache/flakevirt/tiny-guest; else default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/flakevirt/tiny-guest"; fi
cache="${FLAKEVIRT_TINY_CACHE:-$default_cache}"
stamp="$cache/.complete-v10"
if [ -f "$stamp" ] && [ "${FLAKEVIRT_TINY_REBUILD:-}" != 1 ]; then echo "$cache"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

suite_args=()
if apt-cache policy linux-image-cloud-amd64 2>/dev/null | grep -c bookworm-backports >/dev/null; then suite_args=(-t bookworm-backports); fi
kpkg=$(apt-cache depends "${suite_args[@]}" linux-image-cloud-amd64 | awk '/Depends: linux-image-/ && !k { k = $2 } END { print k }')
[ -n "$kpkg" ] || { echo "tiny-guest: cannot resolve linux-image-cloud-amd64 (run apt-get update)" >&2; exit 1; }
pkgs=(busybox-static dropbear-bin libtomcrypt1 libtommath1)
# udev from Debian 12 itself (bookworm's 252, not a backport): the stock rules are what is tested.
udev_version=$(apt-cache madison udev | awk '$6 ~ /^bookworm\/main/ && !v { v = $3 } END { print v }')
[ -n "$udev_version" ] || { echo "tiny-guest: no bookworm udev in the package lists (run apt-get update)" >&2; exit 1; }
pkgs+=("udev=$udev_version")
apt-get download -q "${suite_args[@]}" "$kpkg" >/dev/null 2>&1 || apt-get download "${suite_args[@]}" "$kpkg" >&2
apt-get download -q "${pkgs[@]}" >/dev/null 2>&1 || apt-get download "${pkgs[@]}" >&2
mkdir -p kernel bb db root
dpkg-deb -x ./linux-image-*.deb kernel
dpkg-deb -x ./busybox-static_*.deb bb
for p in dropbear-bin libtomcrypt1 libtommath1; do dpkg-deb -x ./"$p"_*.deb db; done
kver=$(ls kernel/lib/modules | sed -n 1p)

# The initramfs: busybox, the modules virtio-net/virtio-blk need, and an init script.
mkdir -p root/{bin,sbin,proc,sys,dev,run,tmp,etc,usr/share/udhcpc,lib/modules/"$kver"}
cp bb/bin/busybox root/bin/busybox
for m in virtio virtio_ring virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev failover net_failover virtio_net virtio_blk; do
  f=$(find kernel/lib/modules/"$kver" -name "$m.ko*" -print -quit)
  [ -n "$f" ] || continue   # built in on this kernel
  rel=${f#kernel/lib/modules/$kver/}
  mkdir -p "root/lib/modules/$kver/$(dirname "$rel")"
  cp "$f" "root/lib/modules/$kver/$rel"
done
# dropbear and the shared libraries it needs (its own from the .debs, the rest from this host).
mkdir -p root/usr/sbin root/lib/x86_64-linux-gnu root/lib64 root/etc/dropbear
cp db/usr/sbin/dropbear root/usr/sbin/dropbear
LD_LIBRARY_PATH="$PWD/db/usr/lib/x86_64-linux-gnu" ldd db/usr/sbin/dropbear | awk '/=> \// { print $3 } /ld-linux/ { print $1 }' | while read -r lib; do
  case $lib in
    */ld-linux*) cp -L "$lib" root/lib64/ ;;
    *) cp -L "$lib" root/lib/x86_64-linux-gnu/ ;;
  esac
done
# systemd-udevd with Debian's stock rules (and the helpers they call), and the libraries udevadm needs.
dpkg-deb -x ./udev_*.deb ud
mkdir -p root/lib/systemd root/lib/udev root/etc/udev/rules.d root/run
cp ud/bin/udevadm root/bin/udevadm
ln -s /bin/udevadm root/lib/systemd/systemd-udevd
cp -a ud/lib/udev/. root/lib/udev/
cp ud/etc/udev/udev.conf root/etc/udev/udev.conf
ldd ud/bin/udevadm | awk '/=> \// { print $3 }' | while read -r lib; do cp -L "$lib" root/lib/x86_64-linux-gnu/; done
cp "$here/tiny-guest/init" root/init
cp "$here/tiny-guest/udhcpc.script" root/usr/share/udhcpc/default.script
chmod +x root/init root/usr/share/udhcpc/default.script
(cd root && find . | cpio -o -H newc --quiet | gzip -1) > initrd.img

mkdir -p "$cache"
cp kernel/boot/vmlinuz-"$kver" "$cache/vmlinuz.tmp" && mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
mv initrd.img "$cache/initrd.img"
cp kernel/boot/config-"$kver" "$cache/config.tmp" && mv "$cache/config.tmp" "$cache/config"
[ -f "$cache/base.qcow2" ] || { qemu-img create -q -f qcow2 "$cache/base.qcow2.tmp" 1G && mv "$cache/base.qcow2.tmp" "$cache/base.qcow2"; }
# qemu runs as libvirt's DAC user: everything here must be world-readable, every directory traversable.
chmod 0755 "$cache"; chmod 0644 "$cache"/vmlinuz "$cache"/initrd.img "$cache"/base.qcow2 "$cache"/config
echo "$kver" > "$cache/kernel-version"
rm -f "$cache"/.complete-*
touch "$stamp"
echo "$cache"
