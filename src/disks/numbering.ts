// Device numbering shared by the buses' rules.

/** Names the first gap in a set of numbers that must run from `first` without holes, or undefined. */
export function firstGap(numbers: number[], first: number): number | undefined {
  const set = new Set(numbers);
  const max = Math.max(...numbers);
  for (let n = first; n <= max; n++) if (!set.has(n)) return n;
  return undefined;
}
