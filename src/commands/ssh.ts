// flakevirt ssh GUEST [-- CMD…]: a shell on the guest, or CMD run there with its exit status and
// output passed through. The connection is the one ssh-config and the inventory use
// (render/connection.ts): same user, key, host-key policy and jump.
import { NoSpecError, RefusedError, SpecError } from '../errors.js';
import { guestConnection, sshArgv } from '../render/connection.js';
import { listFleet } from './list.js';
import type { GlobalOptions } from './context.js';

export interface SshOptions extends GlobalOptions {
  guest: string;
  /** What follows `--` on the command line. */
  command: string[];
}

export async function sshCommand(opts: SshOptions): Promise<void> {
  const { fleet, rows } = await listFleet(opts, { allowExample: 'present', health: false });
  if (!fleet) throw new NoSpecError();
  const guest = fleet.guests.find((g) => g.name === opts.guest);
  if (!guest) throw new SpecError([{ path: 'guest', message: `${opts.guest} is not a guest of ${fleet.specPath} (its guests: ${fleet.guests.map((g) => g.name).join(', ')})` }], 'unknown guest');
  const row = rows.find((r) => r.name === guest.name);
  if (!row?.ip) {
    const why = !row || row.state === 'not defined' ? 'is not defined' : row.state === 'unreachable' ? `is on host ${row.host}, which cannot be reached` : row.state !== 'running' ? `is ${row.state}` : 'is running but holds no DHCP lease yet';
    const fix = row?.state === 'running' ? `wait for it with "flakevirt up ${guest.name}"` : row?.state === 'unreachable' ? 'see the warning above' : `start it with "flakevirt up ${guest.name}"`;
    throw new RefusedError(`${guest.name} ${why}: nothing to connect to; ${fix}`);
  }
  const host = fleet.hosts.find((h) => h.name === row.host);
  const argv = sshArgv(guestConnection(fleet, row.ip, host), opts.command, { tty: !opts.command.length && process.stdin.isTTY === true });
  const { runSsh } = await import('../adapters/ssh.js');
  process.exitCode = await runSsh(argv);
}
