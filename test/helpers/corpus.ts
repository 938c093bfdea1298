// The bad-spec corpus: test/fixtures/specs/invalid/*.yaml, each naming in its header the issue
// (path and message) it must produce.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';

export const INVALID_DIR = fixture('specs', 'invalid');

/** [file, text, expected path prefix, expected message] per corpus file. */
export const cases: Array<[string, string, string, RegExp]> = readdirSync(INVALID_DIR).filter((f) => f.endsWith('.yaml')).sort().map((f) => {
  const text = readFileSync(join(INVALID_DIR, f), 'utf8');
  const path = /^# expect-path: ?(.*)$/m.exec(text)?.[1] ?? '';
  const message = new RegExp(/^# expect-message: (.*)$/m.exec(text)![1]!);
  return [f, text, path, message];
});
