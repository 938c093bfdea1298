// XML text ↔ the object tree fast-xml-parser uses, for every libvirt document flakevirt reads or
// writes (domain.ts, host.ts, network.ts, storage.ts type them; nothing else touches XML text).
// Entities are left as written in the tree: every value flakevirt adds goes through escape/xml.ts
// (node builders below), every value it reads comes out through xmlUnescape (readers below), and
// template text it leaves alone stays as the user wrote it.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { xmlEscape, xmlUnescape } from '../escape/xml.js';

export type XmlNode = { [key: string]: unknown };

const common = { ignoreAttributes: false, attributeNamePrefix: '@_', processEntities: false } as const;

const parser = new XMLParser({
  ...common,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  commentPropName: false,
  // The value and attribute callbacks get the path as an object, not a string built per value
  // (flakevirt sets no callbacks; the strings cost a third of a cold parse).
  jPath: false,
  // No isArray: an element that repeats becomes an array, one that does not stays a node, and the
  // readers below (children) take both. Asking isArray per element doubled the parse time.
});

const builder = new XMLBuilder({ ...common, format: true, indentBy: '  ', suppressEmptyNode: true, suppressBooleanAttributes: false });

export function parseXml(xml: string): XmlNode {
  return parser.parse(xml) as XmlNode;
}

/** Why the text is not well-formed XML ("line 3: …"), or undefined when it is. */
export function xmlProblem(xml: string): string | undefined {
  const r = XMLValidator.validate(xml);
  return r === true ? undefined : `line ${r.err.line}: ${r.err.msg}`;
}

export function buildXml(tree: XmlNode): string {
  return builder.build(tree) as string;
}

// ---- reading a parsed tree (values decoded) ----

function isNode(v: unknown): v is XmlNode {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** The child element `key` of `n` when it is an element (the first, when repeated). */
export function child(n: unknown, key: string): XmlNode | undefined {
  if (!isNode(n)) return undefined;
  const v = n[key];
  const first = Array.isArray(v) ? v[0] : v;
  if (isNode(first)) return first;
  return typeof first === 'string' ? { '#text': first } : undefined;
}

/** Every child element `key` of `n`, as nodes (a bare text child becomes { '#text': … }). */
export function children(n: unknown, key: string): XmlNode[] {
  if (!isNode(n)) return [];
  const v = n[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((e) => (isNode(e) ? e : { '#text': typeof e === 'string' ? e : '' }));
}

/** An attribute's value, decoded. */
export function attr(n: unknown, name: string): string | undefined {
  if (!isNode(n)) return undefined;
  const v = n[`@_${name}`];
  return typeof v === 'string' ? xmlUnescape(v) : undefined;
}

/** An element's text, decoded (the element itself or its child `key`). */
export function text(n: unknown, key?: string): string | undefined {
  const e = key === undefined ? n : isNode(n) ? (Array.isArray(n[key]) ? (n[key] as unknown[])[0] : n[key]) : undefined;
  if (typeof e === 'string') return xmlUnescape(e);
  if (isNode(e) && typeof e['#text'] === 'string') return xmlUnescape(e['#text']);
  return undefined;
}

// ---- building nodes (values escaped) ----

export type Attrs = Record<string, string | number | boolean | undefined>;

/** Attributes for a node, each value escaped; undefined ones are left out. */
export function attrs(values: Attrs): XmlNode {
  const out: XmlNode = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[`@_${k}`] = xmlEscape(v);
  return out;
}

/** A text element, with attributes. */
export function textNode(value: string | number, extra: Attrs = {}): XmlNode {
  return { ...attrs(extra), '#text': xmlEscape(value) };
}
