// The one way a value becomes a word of a POSIX shell command line (sh -c, ssh's ProxyCommand).
import { SpecError } from '../errors.js';

/** The value as one shell word: bare when it is plainly safe, else single-quoted. */
export function shellWord(v: string): string {
  if (/[\u0000]/.test(v)) throw new SpecError([{ path: '', message: `cannot pass ${JSON.stringify(v)} to a shell (it holds a NUL character)` }], 'cannot quote a value');
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}
