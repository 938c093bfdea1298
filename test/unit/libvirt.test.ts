// adapters/libvirt.ts against libvirt's test driver (test:///default has one running domain, "test").
import { describe, expect, it } from 'vitest';
import { Libvirt } from '../../src/adapters/libvirt.js';

describe('Libvirt on test:///default', () => {
  it('finds one domain by name with one lookup, and answers undefined for a name that is not there', async () => {
    const lv = await Libvirt.open('test:///default');
    try {
      const d = await lv.domain('test');
      expect(d).toMatchObject({ name: 'test', running: true, state: 'running' });
      expect(d!.xml).toContain('<name>test</name>');
      expect(await lv.domain('no-such-domain')).toBeUndefined();
      expect((await lv.domains()).map((x) => x.name)).toContain('test');
    } finally {
      await lv.close();
    }
  });
});
