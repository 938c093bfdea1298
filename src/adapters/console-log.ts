// The last lines of a guest's serial console log, for error messages.
import { readFile } from 'node:fs/promises';

export async function consoleTail(path: string | undefined, lines = 15): Promise<string> {
  if (!path) return '(no console log configured)';
  try {
    const text = (await readFile(path, 'utf8')).replace(/\r/g, '').trimEnd();
    if (!text) return `(console log ${path} is empty)`;
    return text.split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
  } catch (e) {
    return `(cannot read console log ${path}: ${(e as NodeJS.ErrnoException).code})`;
  }
}
