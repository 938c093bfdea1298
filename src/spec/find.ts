// Finding the spec file (kept apart from load.ts so commands without a spec start fast).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SPEC_FILE = 'flakevirt.yaml';

/** The spec path: -f, else ./flakevirt.yaml; undefined when neither exists. */
export function findSpec(given: string | undefined, cwd = process.cwd()): string | undefined {
  if (given) return resolve(cwd, given);
  const here = resolve(cwd, SPEC_FILE);
  return existsSync(here) ? here : undefined;
}
