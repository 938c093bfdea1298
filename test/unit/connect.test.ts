// Which libvirt URI a spec uses: --connect, else the spec's connect:, else $LIBVIRT_DEFAULT_URI, else qemu:///system.
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/spec/parse.js';
import { normalize } from '../../src/spec/normalize.js';

function connectOf(text: string, opts: { connect?: string; defaultConnect?: string }): string {
  const r = parseSpec(text);
  if (!r.ok) throw new Error('invalid');
  const hosts = normalize(r.spec, { specPath: '/s.yaml', home: '/h', ...opts }).hosts;
  expect(hosts.map((h) => h.name)).toEqual(['local']);
  return hosts[0]!.connect;
}

describe('connect precedence', () => {
  const withConnect = 'connect: qemu+ssh://root@box/system\nguests:\n  a: {}\n';
  const without = 'guests:\n  a: {}\n';
  it('--connect overrides the spec', () => expect(connectOf(withConnect, { connect: 'test:///default', defaultConnect: 'qemu:///session' })).toBe('test:///default'));
  it('the spec wins over $LIBVIRT_DEFAULT_URI', () => expect(connectOf(withConnect, { defaultConnect: 'qemu:///session' })).toBe('qemu+ssh://root@box/system'));
  it('$LIBVIRT_DEFAULT_URI fills in a spec without connect:', () => expect(connectOf(without, { defaultConnect: 'qemu:///session' })).toBe('qemu:///session'));
  it('else qemu:///system', () => expect(connectOf(without, {})).toBe('qemu:///system'));
});
