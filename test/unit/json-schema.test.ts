// The committed JSON Schema (for editors) is the one the zod schema generates, with descriptions.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { specJsonSchema } from '../../src/spec/json-schema.js';

describe('flakevirt.schema.json', () => {
  it('is up to date (regenerate with npm run -s schema)', () => {
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'flakevirt.schema.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(specJsonSchema())));
  });
  it('documents the disk fields with their units', () => {
    const text = JSON.stringify(specJsonSchema());
    for (const phrase of ['Logical block size in bytes', 'log2 of the largest transfer in 4 KiB units', 'logical blocks minus one', 'zone size and capacity']) expect(text).toContain(phrase);
  });
});
