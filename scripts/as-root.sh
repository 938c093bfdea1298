#!/bin/sh
# Runs a command as root: directly in a root shell, through sudo for a sudo user (minimal Debian has
# no sudo, so the README's commands cannot start with it). Used by setup.sh and `npm test`.
#   as-root.sh CMD...              root required: without root or sudo, say how and exit 1
#   as-root.sh --optional CMD...   without root or sudo, run CMD as the user (the tests that need
#                                  root then skip, each printing why); FLAKEVIRT_NO_SUDO=1 does the same
optional=""
[ "${1:-}" = --optional ] && { optional=1; shift; }
[ "$(id -u)" = 0 ] && exec "$@"
if [ -z "${FLAKEVIRT_NO_SUDO:-}" ] && command -v sudo >/dev/null 2>&1; then
  echo "flakevirt: '$*' needs root; running it through sudo" >&2
  exec sudo -- env "PATH=$PATH" "$@"
fi
if [ -n "$optional" ]; then
  echo "flakevirt: not root and no sudo: running '$*' as $(id -un); what needs root is skipped" >&2
  exec "$@"
fi
echo "flakevirt: '$*' needs root: run it in a root shell (su -, then the same command)" >&2
exit 1
