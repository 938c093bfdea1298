// The one way a value becomes Nix source: a double-quoted string literal with every special escaped.

/** A Nix string literal whose value is exactly `s` (quotes, backslashes, "${", newlines escaped). */
export function nixString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' || c === '"') out += `\\${c}`;
    else if (c === '$' && s[i + 1] === '{') out += '\\$';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return `${out}"`;
}

/** A list of string literals. */
export function nixStringList(items: readonly string[]): string {
  return items.length === 0 ? '[ ]' : `[ ${items.map(nixString).join(' ')} ]`;
}

/** An attribute path segment: bare when it is a plain identifier, else quoted. */
export function nixAttr(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !NIX_KEYWORDS.has(name) ? name : nixString(name);
}

const NIX_KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);
