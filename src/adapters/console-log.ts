// The last lines of a guest's serial console log, for error messages.
import { printable } from '../escape/terminal.js';

/** `read` gives the log's text (undefined when it cannot be read); `label` names it. */
export async function consoleTail(label: string | undefined, read: () => Promise<string | undefined>, lines = 15): Promise<string> {
  if (!label) return '(no console log configured)';
  const raw = await read().catch(() => undefined);
  if (raw === undefined) return `(cannot read console log ${label})`;
  const text = printable(raw.replace(/\r/g, '')).trimEnd();
  if (!text) return `(console log ${label} is empty)`;
  return text.split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
}
