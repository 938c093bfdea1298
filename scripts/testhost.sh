#!/usr/bin/env bash
# A private libvirt host on this machine, for tests and demos: a network namespace plus a private
# mount namespace with its own /etc/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt
# and /run/libvirt, running virtlogd and libvirtd (and, through the default network, dnsmasq).
# The bridge, dnsmasq and the guests exist only inside it; nothing reaches the real network.
#
#   testhost.sh up NAME      start it (idempotent); prints the PID to nsenter into
#   testhost.sh exec NAME -- CMD...   run CMD inside it (network + mount namespace)
#   testhost.sh down NAME    destroy its guests, stop its daemons, remove the namespace
#   testhost.sh restart-libvirtd NAME   kill and restart libvirtd only (guests keep running)
#   testhost.sh link NAME PEER N   a veth pair between NAME (10.231.N.2) and PEER (10.231.N.1),
#                                  another test host: PEER reaches NAME, nothing else does
#   testhost.sh sshd NAME start|stop   Debian's sshd on NAME's veth address (after link), host key
#                                  and authorized_keys (from $TESTHOST_AUTHORIZED_KEYS) in its state
set -euo pipefail

cmd=${1:?usage: testhost.sh up|exec|down|restart-libvirtd NAME}
name=${2:?name}
[[ $name =~ ^[a-z0-9-]{1,20}$ ]] || { echo "testhost: bad name $name" >&2; exit 2; }
ns="fvt-$name"
state="/run/flakevirt-testhost/$name"

pid_of() { cat "$state/ns.pid" 2>/dev/null || true; }
alive() { local p; p=$(pid_of); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
inside() { nsenter -t "$(pid_of)" -m -n --wd="$PWD" -- "$@"; }

start_libvirtd() {
  inside libvirtd -d -p "$state/libvirtd.pid"
  # libvirtd can take several seconds to answer on a loaded 2-core machine: allow a minute.
  for _ in $(seq 1 600); do
    inside virsh -q -c qemu:///system version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "testhost: libvirtd did not answer in $name" >&2
  return 1
}

# Stops everything in the namespace and removes it (used by down, and by up to clear a dead one).
teardown() {
  if alive; then
    for d in $(inside virsh -q -c qemu:///system list --name 2>/dev/null); do inside virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1 || true; done
  fi
  # (no `| grep -q` under pipefail: grep exits at the first match, the writer dies of SIGPIPE and the
  # pipeline counts as failed; match on captured output instead)
  if [[ " $(ip netns list | awk '{ print $1 }' | tr '\n' ' ') " == *" $ns "* ]]; then
    pids=$(ip netns pids "$ns" || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    for _ in $(seq 1 100); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
    ip netns del "$ns"
  fi
  rm -rf "$state"
}

case "$cmd" in
up)
  if alive; then pid_of; exit 0; fi
  teardown   # a namespace left by a killed session: start from nothing
  mkdir -p "$state"/{etc,lib,log,cache}
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # A clean configuration: libvirt's built-in defaults, nothing of the machine's /etc/libvirt (its
  # networks, pools, autostart links, hooks or daemon settings, e.g. what setup.sh or a user defined).
  mkdir -p "$state"/etc/qemu
  mkdir -p "$state"/lib/{images,boot,dnsmasq,network} "$state"/lib/qemu "$state/log/qemu"
  chown libvirt-qemu:libvirt-qemu "$state/lib/qemu"
  # The mount namespace lives as long as its holder process (sleep) does.
  ip netns exec "$ns" unshare -m --propagation private sh -c '
    set -e
    mkdir -p /run/libvirt /var/log/libvirt /var/cache/libvirt
    mount --bind "$1/etc" /etc/libvirt
    mount --bind "$1/lib" /var/lib/libvirt
    mount --bind "$1/log" /var/log/libvirt
    mount --bind "$1/cache" /var/cache/libvirt
    mount -t tmpfs -o mode=0755 tmpfs /run/libvirt
    echo $$ > "$1/ns.pid"
    exec sleep infinity
  ' sh "$state" </dev/null >/dev/null 2>&1 &
  for _ in $(seq 1 50); do [ -s "$state/ns.pid" ] && break; sleep 0.05; done
  sleep 0.1
  inside virtlogd -d -p "$state/virtlogd.pid"
  start_libvirtd
  info=$(inside virsh -q -c qemu:///system net-info default 2>/dev/null) || { inside virsh -q -c qemu:///system net-define /usr/share/libvirt/networks/default.xml >/dev/null; info=; }
  [[ $info =~ Active:[[:space:]]+yes ]] || inside virsh -q -c qemu:///system net-start default >/dev/null
  pid_of
  ;;
exec)
  shift 2; [ "${1:-}" = -- ] && shift
  alive || { echo "testhost: $name is not up" >&2; exit 1; }
  inside "$@"
  ;;
restart-libvirtd)
  alive || { echo "testhost: $name is not up" >&2; exit 1; }
  old=$(cat "$state/libvirtd.pid")
  kill "$old"
  # Wait for the old daemon to finish shutting down (it holds the pidfile lock), then make sure.
  for _ in $(seq 1 100); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$old" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  start_libvirtd
  ;;
link)
  peer=${3:?peer}; n=${4:?index}
  [[ $n =~ ^[0-9]{1,3}$ ]] || { echo "testhost: bad index $n" >&2; exit 2; }
  alive || { echo "testhost: $name is not up" >&2; exit 1; }
  [[ $(ip -n "$ns" addr show 2>/dev/null) == *"10.231.$n.2/"* ]] && exit 0
  ip -n "$ns" link add "fvl$n" type veth peer name "fvp$n" netns "fvt-$peer"
  ip -n "$ns" addr add "10.231.$n.2/24" dev "fvl$n"
  ip -n "fvt-$peer" addr add "10.231.$n.1/24" dev "fvp$n"
  ip -n "$ns" link set "fvl$n" up
  ip -n "fvt-$peer" link set "fvp$n" up
  echo "$n" > "$state/link-index"
  ;;
sshd)
  action=${3:?start|stop}
  alive || { echo "testhost: $name is not up" >&2; exit 1; }
  if [ "$action" = stop ]; then
    # The listener and every connection it serves (shared ssh masters included): the host is gone.
    for p in $(ip netns pids "$ns"); do
      [ "$(cat /proc/"$p"/comm 2>/dev/null)" = sshd ] && kill -KILL "$p" 2>/dev/null || true
    done
    rm -f "$state/sshd.pid"
    exit 0
  fi
  n=$(cat "$state/link-index")
  keydir=/var/lib/flakevirt-testhost/$name; mkdir -p "$keydir"   # kept across runs: clients that remember it see no change
  [ -f "$keydir/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N "" -f "$keydir/ssh_host_ed25519_key"
  cp "${TESTHOST_AUTHORIZED_KEYS:?public key file}" "$state/authorized_keys"
  chmod 600 "$state/authorized_keys"
  mkdir -p /run/sshd
  if [ -s "$state/sshd.pid" ] && kill -0 "$(cat "$state/sshd.pid")" 2>/dev/null; then exit 0; fi
  inside /usr/sbin/sshd -f /dev/null -h "$keydir/ssh_host_ed25519_key" \
    -o "ListenAddress=10.231.$n.2" -o "PidFile=$state/sshd.pid" -o "AuthorizedKeysFile=$state/authorized_keys" \
    -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
    -o UsePAM=no -o StrictModes=no -o "Subsystem=sftp internal-sftp" -o MaxStartups=100:30:200 -o MaxSessions=100
  for _ in $(seq 1 50); do [ -s "$state/sshd.pid" ] && break; sleep 0.05; done
  ;;
down)
  teardown
  ;;
*) echo "testhost: unknown command $cmd" >&2; exit 2 ;;
esac
