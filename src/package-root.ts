// Where flakevirt's own files (domain-templates/, nix/, examples/) are, wherever it is installed.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The package root: the directory above dist/ (or src/ when run from source). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
