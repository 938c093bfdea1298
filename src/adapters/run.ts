// Runs an external command; a failure becomes a ToolError with the command line and its stderr.
import { ToolError } from '../errors.js';

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Runs `file args…` without a shell and returns stdout; throws ToolError on failure. */
export async function run(file: string, args: readonly string[], what: string, opts: RunOptions = {}): Promise<string> {
  const { execa } = await import('execa'); // loaded on first use: keeps CLI start-up short
  const r = await execa(file, args, {
    reject: false,
    stripFinalNewline: false,
    ...(opts.input !== undefined && { input: opts.input }),
    ...(opts.timeoutMs && { timeout: opts.timeoutMs }),
    ...(opts.env && { env: opts.env }),
  });
  if (r.failed) {
    throw new ToolError({
      message: what,
      command: r.escapedCommand,
      ...(r.exitCode !== undefined && { exitCode: r.exitCode }),
      stderr: (r.stderr || (r.timedOut ? 'timed out' : r.originalMessage ?? '')).toString(),
    });
  }
  return r.stdout.toString();
}
