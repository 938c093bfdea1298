// What the spec loader accepts at most (the README's spec reference states them).
export const LIMITS = {
  /** The spec file, in bytes. */
  bytes: 1 << 20,
  /** YAML alias expansions (an alias bomb stops here). */
  aliases: 100,
  /** Nesting of mappings and lists. */
  depth: 16,
  /** Values in the whole document. */
  nodes: 50_000,
  /** One string (an RSA-8192 key line is about 1.4 KiB). */
  string: 4096,
} as const;
