// The one way a value becomes a word of a POSIX shell command line (sh -c, ssh's ProxyCommand).

/** The value as one shell word: bare when it is plainly safe, else single-quoted. */
export function shellWord(v: string): string {
  if (/[\u0000]/.test(v)) throw new Error(`cannot pass ${JSON.stringify(v)} to a shell`);
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}
