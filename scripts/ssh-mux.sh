#!/bin/sh
# The ssh that flakevirt hands libvirt for qemu+ssh:// URIs (through the URI's command= parameter):
# plain ssh plus connection sharing, so the many short virsh calls of one run reuse one ssh
# connection per host instead of paying a key exchange (~0.3 s) each. The shared connection lives
# 60 s after its last use, like Ansible's ControlPersist. FLAKEVIRT_SSH_MUX=0 turns this off.
dir="${XDG_RUNTIME_DIR:-/tmp}/flakevirt-ssh-$(id -u)"
mkdir -p "$dir" && chmod 700 "$dir"
exec ssh -o ControlMaster=auto -o "ControlPath=$dir/%C" -o ControlPersist=60 "$@"
