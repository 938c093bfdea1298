#!/usr/bin/env bash
# Makes sure this host has a virtiofsd (imageless guests share the Nix store and /lib/modules over
# virtiofs, issue 23). Prints the path of the one to use.
# - The distribution's, where it has one (trixie, Ubuntu 24.04, Fedora: `virtiofsd` in PATH,
#   /usr/libexec/virtiofsd or /usr/lib/qemu/virtiofsd).
# - On Debian bookworm, which has none (and QEMU 10 no longer ships the C one): Debian trixie's
#   virtiofsd with trixie's own loader and libraries, unpacked into $FLAKEVIRT_VIRTIOFSD_ROOT
#   (default /opt/flakevirt/virtiofsd) and run through a wrapper, /usr/local/libexec/flakevirt-virtiofsd
#   (verified here, FACTS.md). trixie's package lists live in a directory of their own: the host's
#   apt sources and lists are not touched.
# Anything else: exit 1 naming what to install.
set -euo pipefail

for f in "$(command -v virtiofsd || true)" /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd; do
  if [ -n "$f" ] && [ -x "$f" ]; then echo "$f"; exit 0; fi
done
root="${FLAKEVIRT_VIRTIOFSD_ROOT:-/opt/flakevirt/virtiofsd}"
wrapper=/usr/local/libexec/flakevirt-virtiofsd
if [ -x "$wrapper" ] && [ -x "$root/usr/libexec/virtiofsd" ]; then echo "$wrapper"; exit 0; fi

. /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "install-virtiofsd: no virtiofsd on ${PRETTY_NAME:-this host}; install the distribution's virtiofsd package" >&2
  exit 1
fi
[ "$(id -u)" = 0 ] || { echo "install-virtiofsd: run as root (it writes $root and $wrapper)" >&2; exit 1; }

# The host's Debian mirror (deb822 or one-line sources), with the suite trixie.
mirror=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
  while read -r key value _; do
    if [ "$key" = URIs: ] && [ -z "$mirror" ] && [[ "$value" != *security* ]]; then mirror=$value; fi
  done < /etc/apt/sources.list.d/debian.sources
fi
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"  # apt downloads as _apt
mkdir -p "$work/lists/partial" "$work/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$work/sources.list"
apt_opts=(-q -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
apt-get "${apt_opts[@]}" update >/dev/null
(cd "$work/debs" && apt-get "${apt_opts[@]}" -o Dir::State::status=/dev/null download virtiofsd libc6 libcap-ng0 libgcc-s1 libseccomp2 >/dev/null)

rm -rf "$root.new"
mkdir -p "$root.new"
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$root.new"; done
[ -x "$root.new/usr/libexec/virtiofsd" ] || { echo "install-virtiofsd: trixie's virtiofsd package has no /usr/libexec/virtiofsd" >&2; exit 1; }
rm -rf "$root"
mv "$root.new" "$root"
mkdir -p "$(dirname "$wrapper")"
cat > "$wrapper.tmp" <<EOF
#!/bin/sh
# trixie's virtiofsd with trixie's loader and libraries (written by flakevirt's scripts/install-virtiofsd.sh)
exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/libexec/virtiofsd" "\$@"
EOF
chmod 0755 "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"
"$wrapper" --version >/dev/null
echo "$wrapper"
