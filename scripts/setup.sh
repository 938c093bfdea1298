#!/usr/bin/env bash
# One command for a fresh Debian host: install everything, build flakevirt, make sure libvirt and
# its default network run, and bring up the built-in example fleet (two tiny guests with an NVMe
# and a virtio-blk disk each). Ends by printing the guests, their IPs and their Ansible inventory.
#   scripts/setup.sh            install + example fleet (as root, or a sudo user)
#   scripts/setup.sh --no-up    install only
set -euo pipefail
cd "$(dirname "$0")/.."
# It installs packages and uses qemu:///system: as a sudo user, it runs itself again through sudo.
[ "$(id -u)" = 0 ] || exec sh scripts/as-root.sh bash scripts/setup.sh "$@"

# FLAKEVIRT_SKIP_INSTALL=1: packages and node_modules are there already (e.g. a re-run offline).
if [ "${FLAKEVIRT_SKIP_INSTALL:-}" != 1 ]; then
  bash scripts/install-host-packages.sh
  npm ci --no-audit --no-fund
fi
npm run -s build
ln -sf "$PWD/dist/cli.js" /usr/local/bin/flakevirt

# libvirt: started by systemd on a normal host; started here by hand where there is no systemd.
bash scripts/start-libvirt.sh
virsh -q -c qemu:///system net-info default >/dev/null 2>&1 || virsh -q -c qemu:///system net-define /usr/share/libvirt/networks/default.xml
virsh -q -c qemu:///system net-autostart default >/dev/null 2>&1 || true

[ "${1:-}" = --no-up ] && { echo "setup: installed; run 'flakevirt up' to bring up the example fleet"; exit 0; }

cd "$(mktemp -d)"    # no flakevirt.yaml here: `up` takes the built-in example
flakevirt up
echo
flakevirt list
echo
echo "# guest IPs"
flakevirt ips
echo
echo "# Ansible: run a command on every guest with this inventory (as root, from any directory):"
echo "#   flakevirt inventory > hosts.ini && ansible all -i hosts.ini -m raw -a uname"
echo "# Ansible inventory (flakevirt inventory; --script PATH writes a dynamic one for ansible -i)"
flakevirt inventory
