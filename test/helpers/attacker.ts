// An unprivileged local user for privilege-boundary tests: created once (useradd, no home, no
// login shell), then used to plant things as root's adversary would, with setpriv.
import { execFileSync, spawnSync } from 'node:child_process';
import { hasCommand } from './tools.js';

export interface LocalUser { name: string; uid: number; gid: number; run(args: string[]): { status: number | null; stdout: string; stderr: string } }

/** Why the attacks cannot run here, printed once; undefined when they can. */
export function attackerSkipReason(): string | undefined {
  const reason = process.getuid?.() !== 0 ? 'privilege tests need root (they create an unprivileged user and run flakevirt as root against it)'
    : !hasCommand('useradd') || !hasCommand('setpriv') ? 'privilege tests need useradd and setpriv (passwd, util-linux)' : undefined;
  if (reason) process.stderr.write(`skipped: ${reason}\n`);
  return reason;
}

export function localUser(name: string): LocalUser {
  if (spawnSync('id', ['-u', name]).status !== 0) execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return {
    name, uid, gid,
    run: (args) => {
      const r = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' } });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
