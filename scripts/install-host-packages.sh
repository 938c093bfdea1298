#!/usr/bin/env bash
# Installs the system packages flakevirt and its tests need on a Debian host.
# On bookworm it adds the bookworm-backports suite (QEMU 10, libvirt 11.3, 6.12 kernel) by copying the
# host's own Debian source entry, so no mirror is named here. Idempotent.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "install-host-packages: run as root (it calls apt-get)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
backports_args=()
if [ "$codename" = bookworm ] && [ "${FLAKEVIRT_NO_BACKPORTS:-}" != 1 ]; then
  target=/etc/apt/sources.list.d/flakevirt-bookworm-backports.sources
  if [ ! -f "$target" ]; then
    src=/etc/apt/sources.list.d/debian.sources
    if [ -f "$src" ]; then
      # The first deb822 stanza whose Suites line names plain "bookworm", with Suites replaced.
      awk -v RS= -v ORS='\n\n' '/Suites:[^\n]*bookworm( |\n|$)/ && !/security/ { print; exit }' "$src" \
        | sed -E 's/^Suites:.*/Suites: bookworm-backports/' | grep -v '^#' > "$target.tmp"
    else
      grep -m1 -E '^deb .* bookworm( |$).*main' /etc/apt/sources.list \
        | sed -E 's/ bookworm( |$)/ bookworm-backports\1/' > "$target.tmp.list"
      mv "$target.tmp.list" /etc/apt/sources.list.d/flakevirt-bookworm-backports.list
      target=""
    fi
    [ -n "$target" ] && mv "$target.tmp" "$target"
  fi
  backports_args=(-t bookworm-backports)
fi

apt-get update -qq
# The virtualisation stack (from backports where available).
apt-get install -y -qq --no-install-recommends "${backports_args[@]}" \
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev >/dev/null
# Everything else from the release itself.
apt-get install -y -qq --no-install-recommends \
  dnsmasq-base nix-bin iproute2 busybox-static cpio kmod xz-utils zstd openssh-client \
  ansible-core python3 ca-certificates >/dev/null
# sshd for the multi-host tests' private test hosts (started only inside their namespaces): keep the
# package's own service from starting on this machine while it installs.
if ! command -v /usr/sbin/sshd >/dev/null; then
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null || { [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
fi
# virtiofsd, for imageless guests (issue 23): the distribution's package where it has one, else
# scripts/install-virtiofsd.sh (Debian bookworm has none). Not fatal: without it the virtiofs e2e
# test is skipped, saying why.
if apt-cache show virtiofsd >/dev/null 2>&1; then apt-get install -y -qq --no-install-recommends virtiofsd >/dev/null || true; fi
virtiofsd=$(bash "$(dirname "$0")/install-virtiofsd.sh" 2>/dev/null) || virtiofsd="none (imageless guests and their test need one)"
echo "install-host-packages: $(virsh --version 2>/dev/null | sed 's/^/libvirt /'), $(qemu-system-x86_64 --version | sed -n 1p), virtiofsd $virtiofsd"
