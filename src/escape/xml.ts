// The one way a value becomes XML text or an attribute value.

/** Escapes the five XML specials and the whitespace that attribute normalisation would otherwise eat. */
export function xmlEscape(value: string | number | boolean): string {
  return String(value).replace(/[&<>"'\n\r\t]/g, (c) => XML_ENTITIES[c]!);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;',
};
