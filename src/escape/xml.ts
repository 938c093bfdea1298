// The one way a value becomes XML text or an attribute value.

/** Escapes the five XML specials and the whitespace that attribute normalisation would otherwise eat. */
export function xmlEscape(value: string | number | boolean): string {
  const s = String(value);
  // XML 1.0 has no way to carry these at all, escaped or not (validation refuses them first).
  if (NOT_XML.test(s)) throw new Error(`internal: ${JSON.stringify(s)} holds a character XML 1.0 cannot carry`);
  return s.replace(/[&<>"'\n\r\t]/g, (c) => XML_ENTITIES[c]!);
}

// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;',
};

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text an XML value stands for: the five named entities and character references decoded. */
export function xmlUnescape(value: string): string {
  return value.replace(/&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g, (m, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (name) return NAMED[name]!;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}
