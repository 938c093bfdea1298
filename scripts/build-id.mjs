// Writes dist/build-id: a hash of every built file, so caches of what the code computed (the
// validated spec) are keyed on the code as a whole, not on a hand-kept list of its files.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'dist');
const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && (e.name.endsWith('.js') || e.name.endsWith('.cjs')))
  .map((e) => join(e.parentPath ?? e.path, e.name))
  .sort();
const h = createHash('sha256');
for (const f of files) h.update(f.slice(dist.length)).update('\0').update(readFileSync(f)).update('\0');
writeFileSync(join(dist, 'build-id'), `${h.digest('hex')}\n`);
