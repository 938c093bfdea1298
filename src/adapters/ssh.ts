// Runs ssh to a guest with the terminal attached (flakevirt ssh): its output and exit status are
// the command's, passed through unchanged.
import { spawn } from 'node:child_process';
import { ToolError } from '../errors.js';

/** Runs `ssh argv…` with this process's stdio; resolves to its exit status (a signal: 128 + its number). */
export function runSsh(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', argv, { stdio: 'inherit' });
    p.on('error', (e: NodeJS.ErrnoException) => reject(new ToolError({ message: e.code === 'ENOENT' ? 'ssh is not installed (the openssh-client package)' : `cannot run ssh: ${e.message}`, command: 'ssh' })));
    p.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? ({ SIGINT: 2, SIGTERM: 15, SIGKILL: 9, SIGHUP: 1 }[signal as string] ?? 1) : 1)));
  });
}
