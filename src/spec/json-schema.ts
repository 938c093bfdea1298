// Prints the spec's JSON Schema (for editors: yaml-language-server, VS Code) from the zod schema.
import { z } from 'zod';
import { specSchema } from './schema.js';

export function specJsonSchema(): unknown {
  return { $id: 'https://flakevirt.dev/schema/flakevirt.schema.json', title: 'flakevirt spec', ...z.toJSONSchema(specSchema, { io: 'input', unrepresentable: 'any' }) };
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${JSON.stringify(specJsonSchema(), null, 2)}\n`);
