// Reads a guest's domain template: a built-in one by name, or the user's file.
import { readFile } from 'node:fs/promises';
import { BUILTIN_TEMPLATES } from '../spec/defaults.js';
import { packagePath } from '../package-root.js';

export async function readTemplate(template: string): Promise<string> {
  const file = BUILTIN_TEMPLATES.includes(template) ? packagePath('domain-templates', `${template}.xml`) : template;
  return readFile(file, 'utf8');
}
