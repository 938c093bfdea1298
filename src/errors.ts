// Error classes with structured fields; the CLI maps each class to an exit code.

/** One problem found in a spec: where (a dotted path) and what to do about it. */
export interface SpecIssue {
  path: string;
  message: string;
}

/** The spec is wrong; nothing was changed. Exit code 2. */
export class SpecError extends Error {
  readonly issues: SpecIssue[];
  constructor(issues: SpecIssue[], header = 'invalid spec') {
    super(`${header}:\n${issues.map((i) => `  - ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`);
    this.name = 'SpecError';
    this.issues = issues;
  }
}

/** There is no spec file to read (no ./flakevirt.yaml and no -f). Exit code 2. */
export class NoSpecError extends SpecError {
  constructor() {
    super([{ path: '', message: 'no flakevirt.yaml in this directory; pass -f/--spec FILE' }], 'no spec');
    this.name = 'NoSpecError';
  }
}

/** An external tool (virsh, qemu-img, nix) or libvirt call failed. Exit code 1. */
export class ToolError extends Error {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor({ message, command, exitCode, stderr = '', cause }: { message: string; command: string; exitCode?: number; stderr?: string; cause?: unknown }) {
    const tail = stderr.trim() ? `\n${stderr.trim()}` : '';
    super(`${message}\n  command: ${command}${exitCode === undefined ? '' : ` (exit ${exitCode})`}${tail}`, { cause });
    this.name = 'ToolError';
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** A refused operation on the user's behalf (e.g. a domain flakevirt does not own). Exit code 1. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/** The exit code an error means: 2 for the spec or the arguments, 1 for an operation, 70 for a bug. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof SpecError) return 2;
  if (e instanceof ToolError || e instanceof RefusedError) return 1;
  return 70;
}

/**
 * The exit code of a run over several guests, from each guest's error (undefined: it succeeded):
 * 0 when all succeeded, 2 when one was refused for what the spec says, else 1.
 */
export function runExitCode(errors: ReadonlyArray<unknown>): number {
  const failed = errors.filter((e) => e !== undefined);
  if (!failed.length) return 0;
  return failed.some((e) => e instanceof SpecError) ? 2 : 1;
}
