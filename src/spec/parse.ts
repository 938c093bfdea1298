// Spec text → a checked written spec, or every issue found. Pure: no file access.
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import type { SpecIssue } from '../errors.js';
import { specSchema, type RawSpec } from './schema.js';
import { checkRules } from './rules.js';

export type ParseResult = { ok: true; spec: RawSpec; warnings: SpecIssue[] } | { ok: false; issues: SpecIssue[]; warnings: SpecIssue[] };

/** Parses YAML (JSON is YAML too) and validates it; issues carry dotted paths into the spec. */
export function parseSpec(text: string): ParseResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    return { ok: false, warnings: [], issues: doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}` : '', message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/:\s*$/, '')}` })) };
  }
  return checkSpec(doc.toJS({ maxAliasCount: 100 }));
}

/** Validates an already-parsed value. */
export function checkSpec(value: unknown): ParseResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, warnings: [], issues: [{ path: '', message: 'the spec must be a mapping with at least a guests: key' }] };
  }
  const shaped = specSchema.safeParse(value, { reportInput: true });
  if (!shaped.success) return { ok: false, warnings: [], issues: zodIssues(shaped.error.issues) };
  const { issues, warnings } = checkRules(shaped.data);
  return issues.length ? { ok: false, issues, warnings } : { ok: true, spec: shaped.data, warnings };
}

function zodIssues(list: z.core.$ZodIssue[]): SpecIssue[] {
  return list.map((i) => {
    const path = i.path.map(String).join('.');
    if (i.code === 'invalid_key') return { path, message: i.issues?.[0]?.message ?? i.message };
    if (i.code === 'invalid_type' && i.input === undefined) return { path, message: 'is required' };
    return { path, message: i.message };
  });
}
