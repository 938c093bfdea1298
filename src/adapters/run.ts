// Runs a short external command (virsh, qemu-img, nix-store); a failure becomes a ToolError with
// the command line and its stderr. Plain child_process here: loading execa costs ~90 ms of start-up
// on every command, and these calls need neither streaming nor its process-tree features (the
// long, streamed `nix build` uses execa, in adapters/nix.ts).
import { execFile } from 'node:child_process';
import { ToolError } from '../errors.js';
import { shellWord } from '../escape/shell.js';

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** A shell-readable rendering of a command line, for error messages only (never executed). */
export function displayCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellWord).join(' ');
}

/** Runs `file args…` without a shell and returns stdout; throws ToolError on failure. */
export function run(file: string, args: readonly string[], what: string, opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, {
      maxBuffer: 64 << 20,
      ...(opts.timeoutMs && { timeout: opts.timeoutMs }),
      ...(opts.env && { env: { ...process.env, ...opts.env } }),
    }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = typeof error.code === 'number' ? error.code : undefined;
      reject(new ToolError({
        message: what,
        command: displayCommand(file, args),
        ...(code !== undefined && { exitCode: code }),
        stderr: stderr || (error.killed ? 'timed out' : error.message),
      }));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}
