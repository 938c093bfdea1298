// Which external tools this machine has; tests that need one skip with a printed reason otherwise.
import { execFileSync } from 'node:child_process';

export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Returns a reason to skip when a tool is missing (printed once), else undefined. */
export function missing(...cmds: string[]): string | undefined {
  const absent = cmds.filter((c) => !hasCommand(c));
  if (!absent.length) return undefined;
  const reason = `skipped: ${absent.join(', ')} not installed (run scripts/install-host-packages.sh)`;
  process.stderr.write(`${reason}\n`);
  return reason;
}

/** Environment for nix in tests: no substituters, flakes on, no build users group. */
export const NIX_ENV = {
  ...process.env,
  NIX_CONFIG: 'experimental-features = nix-command flakes\nsubstituters =\nbuild-users-group =\n',
};
