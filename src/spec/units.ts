// Size strings ("20GiB", "512M") to bytes. Binary units only, so "GB" is rejected with a hint.

const UNITS: Record<string, number> = {
  B: 1,
  K: 1024, KiB: 1024,
  M: 1024 ** 2, MiB: 1024 ** 2,
  G: 1024 ** 3, GiB: 1024 ** 3,
  T: 1024 ** 4, TiB: 1024 ** 4,
};

/** Parses a size; returns bytes, or an error message naming the fix. */
export function parseSize(value: unknown): { bytes: number } | { error: string } {
  if (typeof value !== 'string' && typeof value !== 'number') {
    return { error: `expected a size such as "20GiB" or "512MiB", got ${typeof value}` };
  }
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  if (!m) return { error: `"${text}" is not a size; write a number and a unit, e.g. "20GiB" or "512MiB"` };
  const [, num, unit = ''] = m;
  if (unit === '') return { error: `"${text}" has no unit; write e.g. "${text}GiB" or "${text}MiB"` };
  const factor = UNITS[unit];
  if (factor === undefined) {
    const hint = /^[KMGT]B$/i.test(unit) ? `; flakevirt uses binary units: write "${num}${unit[0]!.toUpperCase()}iB"` : '; units: B, KiB, MiB, GiB, TiB';
    return { error: `"${text}" has an unknown unit "${unit}"${hint}` };
  }
  const bytes = Number(num) * factor;
  if (!Number.isSafeInteger(bytes)) return { error: `"${text}" is too large or not a whole number of bytes` };
  return { bytes };
}

/** Formats bytes with the largest binary unit that divides it exactly. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}

/** A measured size, rounded for reading ("78.5GiB", "812KiB"): free space is no multiple of anything. */
export function roughSize(bytes: number): string {
  for (const [unit, factor] of [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(1))}${unit}`;
  }
  return `${bytes}B`;
}

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;
