// The escape functions, with hostile values, checked against the real parsers where they exist.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { XMLParser } from 'fast-xml-parser';
import { nixAttr, nixString } from '../../src/escape/nix.js';
import { xmlEscape } from '../../src/escape/xml.js';
import { qemuOptions, qemuValue } from '../../src/escape/qemu.js';
import { missing, NIX_ENV } from '../helpers/tools.js';

export const HOSTILE = [
  'plain',
  'quote " and \' apostrophe',
  '${builtins.abort "pwned"}',
  '$${x} ${ and $ alone',
  'back\\slash\\" end\\',
  'new\nline\r\ttab',
  '$(reboot); `id` && rm -rf /',
  '<xml attr="x">&amp;</xml>]]>',
  '../../etc/passwd',
  'unicode ✓ ü 日本',
  "''${x}'' indented-string breakers",
  'a,b,,c=d',
];

describe('nixString', () => {
  it('escapes the Nix specials', () => {
    expect(nixString('a"b')).toBe('"a\\"b"');
    expect(nixString('${x}')).toBe('"\\${x}"');
    expect(nixString('$x')).toBe('"$x"');
    expect(nixString('a\\b')).toBe('"a\\\\b"');
    expect(nixString('a\nb')).toBe('"a\\nb"');
  });

  const skip = missing('nix-instantiate');
  it.skipIf(skip).each(HOSTILE)('round-trips through nix-instantiate --eval: %j', (value) => {
    const out = execFileSync('nix-instantiate', ['--eval', '--json', '--expr', nixString(value)], { env: NIX_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(JSON.parse(out)).toBe(value);
  });

  it.skipIf(skip)('keeps hostile attribute names as names', () => {
    const expr = `builtins.attrNames { ${nixAttr('${x}')} = 1; ${nixAttr('if')} = 2; ${nixAttr('ok-name')} = 3; }`;
    const out = execFileSync('nix-instantiate', ['--eval', '--json', '--expr', expr], { env: NIX_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(JSON.parse(out)).toEqual(['${x}', 'if', 'ok-name']);
  });
});

describe('xmlEscape', () => {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, trimValues: false, htmlEntities: true });
  it.each(HOSTILE)('round-trips as an attribute and as text: %j', (value) => {
    const doc = parser.parse(`<r a="${xmlEscape(value)}" b='${xmlEscape(value)}'>${xmlEscape(value)}</r>`) as { r: Record<string, string> };
    expect(doc.r['@_a']).toBe(value);
    expect(doc.r['@_b']).toBe(value);
    expect(doc.r['#text']).toBe(value);
  });
});

describe('qemuValue', () => {
  it('doubles commas so a value cannot add options', () => {
    expect(qemuValue('/pool/a,b/disk.raw')).toBe('/pool/a,,b/disk.raw');
    expect(qemuOptions('driver=file', [['filename', '/x,cache.direct=off'], ['aio', 'native'], ['skip', undefined]])).toBe('driver=file,filename=/x,,cache.direct=off,aio=native');
    expect(qemuValue(true)).toBe('on');
  });
  it('refuses control characters', () => expect(() => qemuValue('a\nb')).toThrow(/control character/));
});

describe('printable (guest text to the terminal)', () => {
  it('drops escape sequences and shows other controls, keeping lines and tabs', async () => {
    const { printable } = await import('../../src/escape/terminal.js');
    expect(printable('ok\x1b]0;pwned\x07 \x1b[2J\x1b[31mred\x1b[0m\r\nnext\tcol\x00\x08\x9b')).toBe('ok red\nnext\tcol^@^H\\x9b');
    expect(printable('SSH-2.0-dropbear_2022.83')).toBe('SSH-2.0-dropbear_2022.83');
  });
});
