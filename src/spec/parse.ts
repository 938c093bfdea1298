// Spec text → a checked written spec, or every issue found. Pure: no file access.
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { LIMITS } from './limits.js';
import type { z } from 'zod';
import type { SpecIssue } from '../errors.js';
import { specSchema, type RawSpec } from './schema.js';
import { checkRules } from './rules.js';

export type ParseResult = { ok: true; spec: RawSpec; warnings: SpecIssue[] } | { ok: false; issues: SpecIssue[]; warnings: SpecIssue[] };

/** Keys that would reach JavaScript's object machinery instead of being data. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses YAML (JSON is YAML too) and validates it; issues carry dotted paths into the spec. */
export function parseSpec(text: string): ParseResult {
  const fail = (issues: SpecIssue[]): ParseResult => ({ ok: false, warnings: [], issues });
  if (text.length > LIMITS.bytes) return fail([{ path: '', message: `the spec is ${text.length} bytes; at most ${LIMITS.bytes} (1 MiB) are read` }]);
  // uniqueKeys off: the library's own check is quadratic in the keys of a mapping; ours is linear.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length) {
    return fail(doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}` : '', message: `YAML syntax: ${e.message.split('\n')[0]!.replace(/:\s*$/, '')}` })));
  }
  const shape = checkNodes(doc.contents);
  if (shape.length) return fail(shape);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: LIMITS.aliases });
  } catch (e) {
    // An alias bomb, an unknown alias: the YAML library's own words, as a spec error.
    return fail([{ path: '', message: `YAML: ${(e as Error).message.split('\n')[0]} (aliases: at most ${LIMITS.aliases} expansions)` }]);
  }
  return checkSpec(value);
}

/** One pass over the YAML nodes: duplicate and forbidden keys, explicit tags, depth and size. */
function checkNodes(root: unknown): SpecIssue[] {
  const issues: SpecIssue[] = [];
  let nodes = 0;
  const walk = (node: unknown, path: string[], depth: number): void => {
    if (issues.length > 20 || !node || typeof node !== 'object') return;
    if (++nodes > LIMITS.nodes) { if (nodes === LIMITS.nodes + 1) issues.push({ path: '', message: `the spec has more than ${LIMITS.nodes} values` }); return; }
    if (depth > LIMITS.depth) { issues.push({ path: path.join('.'), message: `nested deeper than ${LIMITS.depth} levels` }); return; }
    const at = path.join('.');
    const tag = (node as { tag?: string }).tag;
    if (tag) issues.push({ path: at, message: `YAML tag ${tag} is not accepted; a spec holds plain mappings, lists, strings, numbers and booleans` });
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (FORBIDDEN_KEYS.has(key)) issues.push({ path: [...path, key].join('.'), message: `"${key}" is not accepted as a key` });
        else if (seen.has(key)) issues.push({ path: [...path, key].join('.'), message: 'this key is given twice in one mapping; keep one' });
        seen.add(key);
        if (pair.key && typeof pair.key === 'object') walk(pair.key, [...path, key], depth + 1);
        walk(pair.value, [...path, key], depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, String(i)], depth + 1));
    }
  };
  walk(root, [], 0);
  return issues;
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
