// Shared test helpers: load fixture specs without touching the file system checks of load.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseSpec } from '../../src/spec/parse.js';
import { normalize } from '../../src/spec/normalize.js';
import type { Fleet } from '../../src/model.js';

export const TEST_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = join(TEST_ROOT, '..');

export function fixture(...parts: string[]): string {
  return join(TEST_ROOT, 'fixtures', ...parts);
}

/** Parses spec text and normalises it; throws with the issues when invalid. */
export function fleetFrom(text: string, specPath = '/specs/flakevirt.yaml'): Fleet {
  const r = parseSpec(text);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return normalize(r.spec, { specPath, home: '/home/dev' });
}

export function fleetFromFixture(name: string): Fleet {
  return fleetFrom(readFileSync(fixture('specs', 'valid', name), 'utf8'), `/specs/${name}`);
}
