#!/bin/sh
# The ssh that flakevirt hands libvirt for qemu+ssh:// URIs (through the URI's command= parameter):
# plain ssh plus connection sharing, so the many short virsh calls of one run reuse one ssh
# connection per host instead of paying a key exchange (~0.3 s) each. The shared connection lives
# 60 s after its last use, like Ansible's ControlPersist. FLAKEVIRT_SSH_MUX=0 turns this off.
#
# The master sockets live in a directory only this user can use: /run/flakevirt/ssh for root, else
# $XDG_RUNTIME_DIR/flakevirt-ssh (or /tmp/flakevirt-ssh-UID). Whoever owns that directory owns the
# sockets ssh talks through, so one that is a symlink, another user's, or open to others is refused.
uid=$(id -u)
if [ "$uid" = 0 ]; then dir=/run/flakevirt/ssh; mkdir -p -m 700 /run/flakevirt
elif [ -n "${XDG_RUNTIME_DIR:-}" ]; then dir=$XDG_RUNTIME_DIR/flakevirt-ssh
else dir=/tmp/flakevirt-ssh-$uid
fi
[ -e "$dir" ] || [ -L "$dir" ] || mkdir -m 700 "$dir" 2>/dev/null
if [ -L "$dir" ] || [ ! -d "$dir" ] || [ "$(stat -c '%u %a' "$dir")" != "$uid 700" ]; then
  echo "flakevirt ssh: $dir is not a directory of uid $uid with mode 700 (it would hold the shared ssh connections); remove it and run again" >&2
  exit 255
fi
exec ssh -o ControlMaster=auto -o "ControlPath=$dir/%C" -o ControlPersist=60 "$@"
