// Reading flakevirt's mark back from the XML libvirt returns (single quotes, reordered, entities).
import { describe, expect, it } from 'vitest';
import { domainFacts } from '../../src/ownership.js';
import { fleetFromFixture } from '../helpers/fixtures.js';
import { domainXml } from '../helpers/render.js';
import { bootRecordXml, BOOT_NS } from '../../src/render/boot-record.js';

const LIBVIRT_STYLE = `<domain type='qemu' id='3'>
  <name>g1</name>
  <metadata>
    <flakevirt:guest xmlns:flakevirt="http://flakevirt.dev/xmlns/guest/1">
      <flakevirt:spec>/s/flakevirt.yaml</flakevirt:spec>
      <flakevirt:fingerprint>abc</flakevirt:fingerprint>
      <flakevirt:dir>/pool/g1</flakevirt:dir>
      <flakevirt:base>/b.qcow2</flakevirt:base>
      <flakevirt:state>{&quot;memory&quot;:&quot;1GiB&quot;,&quot;disk /dev/vdb&quot;:&quot;virtio 1GiB raw serial=fv-vdb&quot;}</flakevirt:state>
    </flakevirt:guest>
  </metadata>
  <devices>
    <disk type='file' device='disk'>
      <source file='/pool/g1/vdb.raw'/>
      <target dev='vdb' bus='virtio'/>
      <serial>fv-vdb</serial>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:AA:bb:cc'/>
      <source network='default' portid='x' bridge='virbr0'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'><mac address='52:54:00:00:00:01'/><source bridge='br0'/></interface>
    <serial type='pty'>
      <source path='/dev/pts/3'/>
      <log file='/pool/g1/console.log' append='off'/>
      <target type='isa-serial' port='0'/>
    </serial>
    <console type='pty' tty='/dev/pts/3'><target type='serial' port='0'/></console>
  </devices>
</domain>`;

describe('domainFacts', () => {
  it('reads ownership, MACs, networks and the console log from libvirt-style XML', () => {
    const f = domainFacts(LIBVIRT_STYLE);
    expect(f.owner).toEqual({ spec: '/s/flakevirt.yaml', fingerprint: 'abc', dir: '/pool/g1', base: '/b.qcow2', state: { memory: '1GiB', 'disk /dev/vdb': 'virtio 1GiB raw serial=fv-vdb' } });
    expect(f.macs).toEqual(['52:54:00:aa:bb:cc', '52:54:00:00:00:01']);
    expect(f.networks).toEqual(['default']);
    expect(f.consoleLog).toBe('/pool/g1/console.log');
  });

  it('finds no owner in a foreign domain, nor in metadata under another namespace', () => {
    expect(domainFacts("<domain type='qemu'><name>x</name></domain>").owner).toBeUndefined();
    const other = LIBVIRT_STYLE.replace('http://flakevirt.dev/xmlns/guest/1', 'http://example.com/other');
    expect(domainFacts(other).owner).toBeUndefined();
  });

  it('reads back what the renderer writes', () => {
    const fleet = fleetFromFixture('storage.yaml');
    const f = domainFacts(domainXml(fleet, 'xfs-4k'));
    expect(f.owner?.dir).toBe('/var/lib/libvirt/images/flakevirt/xfs-4k');
    expect(f.owner?.state['disk /dev/nvme0n1']).toBe('nvme 20GiB raw lbs=4096 pbs=4096 serial=fvnvme0');
    expect(f.macs).toEqual([fleet.guests.find((g) => g.name === 'xfs-4k')!.mac]);
  });
});

describe('boot record (live metadata)', () => {
  it('round-trips through the XML virsh metadata --set takes and dumpxml gives back', () => {
    const rec = { startedAt: 1733045000, before: new Map([['192.168.122.5', 1733048600]]), lease: '192.168.122.7' };
    const el = bootRecordXml(rec).replace('<boot ', `<fvboot:boot xmlns:fvboot="${BOOT_NS}" `);
    expect(domainFacts(`<domain><metadata>${el}</metadata></domain>`).boot).toEqual(rec);
    const { lease: _, ...started } = rec;
    const el2 = bootRecordXml(started).replace('<boot ', `<fvboot:boot xmlns:fvboot="${BOOT_NS}" `);
    expect(domainFacts(`<domain><metadata>${el2}</metadata></domain>`).boot).toEqual(started);
    // A reset's boot: where its part of the console log starts.
    const reset = { ...rec, logFrom: 123456 };
    const el3 = bootRecordXml(reset).replace('<boot ', `<fvboot:boot xmlns:fvboot="${BOOT_NS}" `);
    expect(el3).toContain('log="123456"');
    expect(domainFacts(`<domain><metadata>${el3}</metadata></domain>`).boot).toEqual(reset);
    expect(domainFacts(`<domain><metadata>${el3.replace('123456', '-1')}</metadata></domain>`).boot).toBeUndefined();
  });
  it('ignores a boot element in another namespace, or a malformed one', () => {
    expect(domainFacts('<domain><metadata><x:boot xmlns:x="urn:other" started="5" before=""/></metadata></domain>').boot).toBeUndefined();
    expect(domainFacts('<domain><metadata><x:boot xmlns:x="http://flakevirt.dev/xmlns/boot/1" started="soon" before=""/></metadata></domain>').boot).toBeUndefined();
  });
});
