#!/usr/bin/env bash
# Makes sure this machine's libvirt answers: virtlogd (qemu's console and log files go through it)
# and libvirtd, on their sockets in /run/libvirt. systemd starts them on a normal host; where there is
# no systemd (a container, CI) they are started here by hand. Whether one runs is decided by its
# socket answering, never by a process name: a virtlogd or libvirtd of a container or a test host
# (another mount namespace) has sockets elsewhere and serves nobody here.
set -euo pipefail
answers() { node -e 'const s = require("node:net").connect(process.argv[1]); s.on("connect", () => process.exit(0)); s.on("error", () => process.exit(1));' "$1" 2>/dev/null; }
libvirt_up() { virsh -q -c qemu:///system version >/dev/null 2>&1; }
libvirt_up && answers /run/libvirt/virtlogd-sock && exit 0
if [ -d /run/systemd/system ]; then
  systemctl enable --now virtlogd.socket libvirtd.socket libvirtd.service
else
  answers /run/libvirt/virtlogd-sock || virtlogd -d
  libvirt_up || libvirtd -d
fi
for _ in $(seq 1 100); do libvirt_up && break; sleep 0.1; done
libvirt_up || { echo "start-libvirt: libvirtd does not answer on qemu:///system" >&2; exit 1; }
