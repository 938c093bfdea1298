// Telling this boot's lease from the one dnsmasq kept from the last boot.
import { describe, expect, it } from 'vitest';
import { currentLease, freshLease, leaseTimeOf, parseStatusFile, parseVirshLeases, type Lease } from '../../src/leases.js';

const mac = '52:54:00:aa:bb:cc';
const start = 1_800_000_000;

describe('freshLease', () => {
  const old: Lease = { ip: '192.168.122.10', mac, expiry: start - 600 + 3600 }; // granted 10 min before the start
  it('ignores the lease left from the previous boot', () => {
    expect(freshLease([old], { mac, startedAt: start, leaseTime: 3600, before: new Map([[old.ip, old.expiry]]) })).toBeUndefined();
  });
  it('takes a lease granted after the start', () => {
    const renewed = { ...old, expiry: start + 7 + 3600 };
    expect(freshLease([renewed], { mac, startedAt: start, leaseTime: 3600, before: new Map([[old.ip, old.expiry]]) })).toEqual(renewed);
  });
  it('takes a lease whose expiry moved past the snapshot even if the lease time is unknown', () => {
    const renewed = { ...old, expiry: old.expiry + 5 };
    expect(freshLease([renewed], { mac, startedAt: start, leaseTime: 86400, before: new Map([[old.ip, old.expiry]]) })).toEqual(renewed);
  });
  it('ignores a lease from the snapshot granted in the same second as the start', () => {
    const sameSecond = { ip: '192.168.122.10', mac, expiry: start + 3600 };
    expect(freshLease([sameSecond], { mac, startedAt: start, leaseTime: 3600, before: new Map([[sameSecond.ip, sameSecond.expiry]]) })).toBeUndefined();
  });
  it('ignores other MACs and IPv6', () => {
    const other = { ip: '192.168.122.11', mac: '52:54:00:00:00:01', expiry: start + 3600 };
    const v6 = { ip: 'fd00::1', mac, expiry: start + 3600 };
    expect(freshLease([other, v6], { mac, startedAt: start, leaseTime: 3600, before: new Map() })).toBeUndefined();
  });
  it('matches MACs case-insensitively', () => {
    const l = { ip: '192.168.122.12', mac: mac.toUpperCase(), expiry: start + 3600 };
    expect(freshLease([l], { mac, startedAt: start, leaseTime: 3600, before: new Map() })?.ip).toBe('192.168.122.12');
  });
});

describe('currentLease', () => {
  it('returns the unexpired lease with the latest expiry', () => {
    const a = { ip: '10.0.0.1', mac, expiry: start + 10 };
    const b = { ip: '10.0.0.2', mac, expiry: start + 20 };
    const expired = { ip: '10.0.0.3', mac, expiry: start - 1 };
    expect(currentLease([a, expired, b], mac, start)?.ip).toBe('10.0.0.2');
    expect(currentLease([expired], mac, start)).toBeUndefined();
  });
});

describe('parsers', () => {
  it('reads libvirt\'s dnsmasq status file', () => {
    const text = '[\n  {\n    "ip-address": "192.168.122.196",\n    "mac-address": "52:54:00:93:40:78",\n    "client-id": "01:52:54:00:93:40:78",\n    "expiry-time": 1795525681\n  }\n]\n';
    expect(parseStatusFile(text)).toEqual([{ ip: '192.168.122.196', mac: '52:54:00:93:40:78', expiry: 1795525681 }]);
    expect(parseStatusFile('')).toEqual([]);
  });
  it('reads virsh net-dhcp-leases output', () => {
    const text = ' 2026-11-24 13:08:01   52:54:00:93:40:78   ipv4       192.168.122.196/24   -          01:52:54:00:93:40:78\n';
    const [l] = parseVirshLeases(text);
    expect(l).toMatchObject({ ip: '192.168.122.196', mac: '52:54:00:93:40:78' });
    expect(l!.expiry).toBe(Math.floor(new Date('2026-11-24T13:08:01').getTime() / 1000));
  });
  it('reads the lease time from network XML', () => {
    // Whole documents as `virsh net-dumpxml` prints them (the range sits in <ip><dhcp>).
    const net = (range: string) => `<network><name>default</name><bridge name='virbr0' stp='on' delay='0'/><ip address='192.168.122.1' netmask='255.255.255.0'><dhcp>${range}</dhcp></ip></network>`;
    expect(leaseTimeOf(net('<range start="a" end="b"/>'))).toBe(3600);
    expect(leaseTimeOf(net("<range start='a' end='b'><lease expiry='2' unit='hours'/></range>"))).toBe(7200);
    expect(leaseTimeOf(net("<range start='a' end='b'><lease expiry='30'/></range>"))).toBe(1800);
  });
});
