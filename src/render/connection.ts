// How ssh reaches a guest: user, key, host-key policy, and the jump through a remote libvirt host.
// The one function `flakevirt ssh`, `ssh-config` and the Ansible inventory build it from, so the
// three cannot disagree. Pure.
import type { Fleet, Host, Jump } from '../model.js';
import { proxyCommand } from './jump.js';

export interface GuestConnection {
  user: string;
  ip: string;
  /** The private key (the spec's first sshKeyFiles entry without .pub), when the spec names one. */
  key?: string;
  /** ssh options every guest connection takes (-o NAME=VALUE, ssh_config NAME VALUE). */
  options: ReadonlyArray<readonly [string, string]>;
  /** The remote libvirt host a guest on its private network is reached through. */
  jump?: Jump;
}

// Guests are reimaged often: their host keys change, so they are not pinned or recorded.
const GUEST_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ['StrictHostKeyChecking', 'no'],
  ['UserKnownHostsFile', '/dev/null'],
  ['LogLevel', 'ERROR'],
];

export function guestConnection(fleet: Fleet, ip: string, host?: Host): GuestConnection {
  const key = fleet.sshKeyFiles[0]?.replace(/\.pub$/, '');
  return { user: fleet.user, ip, ...(key && { key }), options: GUEST_OPTIONS, ...(host?.jump && { jump: host.jump }) };
}

/** The -o options every guest connection takes, as one ssh argument string (Ansible's ssh_common_args). */
export function commonSshArgs(): string {
  return GUEST_OPTIONS.map(([k, v]) => `-o ${k}=${v}`).join(' ');
}

/**
 * ssh's argv for the connection, then `command` (run by the guest's shell, as ssh joins it). The
 * destination comes after every option and `--` ends them, so nothing after it is read as one.
 */
export function sshArgv(c: GuestConnection, command: readonly string[] = [], { tty = false } = {}): string[] {
  return [
    ...c.options.flatMap(([k, v]) => ['-o', `${k}=${v}`]),
    ...(c.key ? ['-i', c.key, '-o', 'IdentitiesOnly=yes'] : []),
    ...(c.jump ? ['-o', `ProxyCommand=${proxyCommand(c.jump)}`] : []),
    ...(tty ? ['-t'] : []),
    `${c.user}@${c.ip}`,
    ...(command.length ? ['--', ...command] : []),
  ];
}
