// Every bad input is rejected with an issue naming the field and the fix.
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/spec/parse.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host';

/** A one-guest spec with `guest` lines (YAML, indented 4) under guests.g1. */
function spec(guest: string, top = ''): string {
  return `${top}sshKeys: ["${KEY}"]\nguests:\n  g1:\n${guest.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
}

const cases: Array<[string, string, string, RegExp]> = [
  // [name, spec text, expected path, expected message]
  ['unknown top-level key', `netwrk: default\n${spec('memory: 1GiB')}`, '', /unknown key "netwrk"; known keys here: connect, network/],
  ['unknown guest key', spec('memroy: 1GiB'), 'guests.g1', /unknown key "memroy"/],
  ['unknown disk key', spec('disks:\n  /dev/vdb: { size: 1GiB, sise: 2 }'), 'guests.g1.disks./dev/vdb', /unknown key "sise"/],
  ['size without unit', spec('memory: 4096'), 'guests.g1.memory', /has no unit; write e.g. "4096GiB"/],
  ['decimal unit', spec('memory: 4GB'), 'guests.g1.memory', /binary units: write "4GiB"/],
  ['garbage size', spec('memory: lots'), 'guests.g1.memory', /is not a size/],
  ['huge size', spec('disks:\n  /dev/vdb: { size: 99999999999999TiB }'), 'guests.g1.disks./dev/vdb.size', /too large/],
  ['disk over 64TiB', spec('disks:\n  /dev/vdb: { size: 100TiB }'), 'guests.g1.disks./dev/vdb.size', /64TiB limit/],
  ['memory too small', spec('memory: 1MiB'), 'guests.g1.memory', /minimum is 128MiB/],
  ['zero vcpus', spec('vcpus: 0'), 'guests.g1.vcpus', /at least 1/],
  ['negative vcpus', spec('vcpus: -2'), 'guests.g1.vcpus', /at least 1/],
  ['fractional vcpus', spec('vcpus: 1.5'), 'guests.g1.vcpus', /whole number/],
  ['vda as extra disk', spec('disks:\n  /dev/vda: { size: 1GiB }'), 'guests.g1.disks./dev/vda', /is the root disk; extra disks start at \/dev\/vdb/],
  ['scsi device', spec('disks:\n  /dev/sdb: { size: 1GiB }'), 'guests.g1.disks./dev/sdb', /neither an NVMe namespace .* nor a virtio-blk disk/],
  ['partition', spec('disks:\n  /dev/nvme0n1p1: { size: 1GiB }'), 'guests.g1.disks./dev/nvme0n1p1', /neither an NVMe/],
  ['duplicate device', spec('storage:\n  /mnt/a: { device: /dev/vdb, size: 1GiB, fsType: xfs }\ndisks:\n  /dev/vdb: { size: 1GiB }'), 'guests.g1.disks./dev/vdb', /declared twice \(also at guests\.g1\.storage\.\/mnt\/a\.device\)/],
  ['virtio gap', spec('disks:\n  /dev/vdc: { size: 1GiB }'), 'guests.g1', /\/dev\/vdb is missing/],
  ['nvme controller gap', spec('disks:\n  /dev/nvme1n1: { size: 1GiB }'), 'guests.g1', /\/dev\/nvme0n1 is missing/],
  ['nvme namespace gap', spec('disks:\n  /dev/nvme0n1: { size: 1GiB }\n  /dev/nvme0n3: { size: 1GiB }'), 'guests.g1', /\/dev\/nvme0n2 is missing/],
  ['guest name with uppercase', `sshKeys: ["${KEY}"]\nguests:\n  Bad_Name: { memory: 1GiB }\n`, 'guests.Bad_Name', /valid hostname/],
  ['guest name with dots', `guests:\n  a.b: { memory: 1GiB }\n`, 'guests.a.b', /valid hostname/],
  ['guest name too long', `guests:\n  ${'a'.repeat(64)}: { memory: 1GiB }\n`, `guests.${'a'.repeat(64)}`, /1–63 characters/],
  ['relative image', spec('image: images/nixos.qcow2'), 'guests.g1.image', /absolute path/],
  ['relative pool', `pool: images\n${spec('memory: 1GiB')}`, 'pool', /absolute path/],
  ['dotdot path', spec('image: /srv/../etc/shadow'), 'guests.g1.image', /"\.\." segments/],
  ['autoFormat with mkfsArgs', spec('storage:\n  /mnt/a: { device: /dev/vdb, size: 1GiB, fsType: xfs, autoFormat: true, mkfsArgs: ["-f"] }'), 'guests.g1.storage./mnt/a', /autoFormat and mkfsArgs cannot be used together/],
  ['fsType missing', spec('storage:\n  /mnt/a: { device: /dev/vdb, size: 1GiB }'), 'guests.g1.storage./mnt/a.fsType', /is required/],
  ['device missing', spec('storage:\n  /mnt/a: { fsType: xfs, size: 1GiB }'), 'guests.g1.storage./mnt/a.device', /is required/],
  ['size missing', spec('disks:\n  /dev/vdb: { format: raw }'), 'guests.g1.disks./dev/vdb.size', /size/],
  ['block size not power of two', spec('disks:\n  /dev/vdb: { size: 1GiB, logicalBlockSize: 3000 }'), 'guests.g1.disks./dev/vdb.logicalBlockSize', /power of two from 512 to 65536/],
  ['block size too big', spec('disks:\n  /dev/vdb: { size: 1GiB, logicalBlockSize: 131072 }'), 'guests.g1.disks./dev/vdb.logicalBlockSize', /power of two/],
  ['nvme lbs != pbs', spec('disks:\n  /dev/nvme0n1: { size: 1GiB, logicalBlockSize: 512, physicalBlockSize: 4096 }'), 'guests.g1.disks./dev/nvme0n1.physicalBlockSize', /logicalBlockSize = physicalBlockSize/],
  ['virtio pbs < lbs', spec('disks:\n  /dev/vdb: { size: 1GiB, logicalBlockSize: 4096, physicalBlockSize: 512 }'), 'guests.g1.disks./dev/vdb.physicalBlockSize', /at least logicalBlockSize/],
  ['size not a multiple of block', spec('disks:\n  /dev/vdb: { size: 1000001B, logicalBlockSize: 4096 }'), 'guests.g1.disks./dev/vdb.size', /multiple of the 4096-byte block size/],
  ['mdts on virtio', spec('disks:\n  /dev/vdb: { size: 1GiB, mdts: 5 }'), 'guests.g1.disks./dev/vdb.mdts', /NVMe setting/],
  ['conflicting controller mdts', spec('disks:\n  /dev/nvme0n1: { size: 1GiB, mdts: 5 }\n  /dev/nvme0n2: { size: 1GiB, mdts: 6 }'), 'guests.g1.disks./dev/nvme0n2.mdts', /belongs to controller nvme0/],
  ['zoned on virtio', spec('disks:\n  /dev/vdb: { size: 1GiB, zoned: { zoneSize: 64MiB } }'), 'guests.g1.disks./dev/vdb.zoned', /NVMe setting/],
  ['queues on nvme', spec('disks:\n  /dev/nvme0n1: { size: 1GiB, queues: 4 }'), 'guests.g1.disks./dev/nvme0n1.queues', /virtio-blk setting/],
  ['zone size not dividing the disk', spec('disks:\n  /dev/nvme0n1: { size: 100MiB, zoned: { zoneSize: 64MiB } }'), 'guests.g1.disks./dev/nvme0n1.zoned.zoneSize', /whole number of 64MiB zones/],
  ['zone capacity over zone size', spec('disks:\n  /dev/nvme0n1: { size: 128MiB, zoned: { zoneSize: 64MiB, zoneCapacity: 65MiB } }'), 'guests.g1.disks./dev/nvme0n1.zoned.zoneCapacity', /at most zoneSize/],
  ['maxOpen over maxActive', spec('disks:\n  /dev/nvme0n1: { size: 128MiB, zoned: { zoneSize: 64MiB, maxOpen: 8, maxActive: 4 } }'), 'guests.g1.disks./dev/nvme0n1.zoned.maxOpen', /cannot exceed maxActive/],
  ['bad format', spec('disks:\n  /dev/vdb: { size: 1GiB, format: vmdk }'), 'guests.g1.disks./dev/vdb.format', /"raw" \(default\) or "qcow2"/],
  ['unknown profile', spec('profiles: [desktop]'), 'guests.g1.profiles.0', /a profile is one of build-tools, controller, devel, monitoring/],
  ['unknown test suite', spec('testSuites: [xfstests]'), 'guests.g1.testSuites.0', /a test suite is one of/],
  ['bad accel', spec('accel: hvf'), 'guests.g1.accel', /auto, kvm or tcg/],
  ['newline in cmdline', spec('image: /i.qcow2\nkernel: /k\ncmdline: "a\\nb"'), 'guests.g1.cmdline', /control character/],
  ['newline in ssh key', `sshKeys: ["${KEY}\\nssh-rsa AAAA evil"]\nguests:\n  g1: {}\n`, 'sshKeys.0', /control character/],
  ['not an ssh key', `sshKeys: ["hello world"]\nguests:\n  g1: {}\n`, 'sshKeys.0', /not an OpenSSH public key/],
  ['private key file', `sshKeyFiles: [~/.ssh/id_ed25519]\nguests:\n  g1: {}\n`, 'sshKeyFiles.0', /name the public key/],
  ['root user', `user: root\n${spec('memory: 1GiB')}`, 'user', /must not be root/],
  ['shell in user name', `user: "$(reboot)"\n${spec('memory: 1GiB')}`, 'user', /Unix user name/],
  ['cmdline without kernel', spec('cmdline: "console=ttyS0"'), 'guests.g1.cmdline', /needs kernel:/],
  ['initrd without kernel', spec('image: /i.qcow2\ninitrd: /boot/initrd'), 'guests.g1.initrd', /needs kernel:/],
  ['mount point /', spec('storage:\n  /: { device: /dev/vdb, size: 1GiB, fsType: xfs }'), 'guests.g1.storage./', /other than "\/"/],
  ['mount point relative', spec('storage:\n  mnt: { device: /dev/vdb, size: 1GiB, fsType: xfs }'), 'guests.g1.storage.mnt', /absolute path/],
  ['bad network name', `network: "def ault"\n${spec('memory: 1GiB')}`, 'network', /libvirt network name/],
  ['bad connect uri', `connect: system\n${spec('memory: 1GiB')}`, 'connect', /libvirt URI/],
  ['flake ref with space', `nixosFlake: "github:a/b c"\n${spec('memory: 1GiB')}`, 'nixosFlake', /without spaces/],
  ['bad template', spec('template: fancy'), 'guests.g1.template', /neither a built-in template \(q35\) nor an absolute path/],
  ['bad serial', spec('disks:\n  /dev/vdb: { size: 1GiB, serial: "a b" }'), 'guests.g1.disks./dev/vdb.serial', /1–20 characters/],
  ['serial with quote', spec('disks:\n  /dev/vdb: { size: 1GiB, serial: "x\'" }'), 'guests.g1.disks./dev/vdb.serial', /1–20 characters/],
  ['ansible group with dash', spec('groups: [my-group]'), 'guests.g1.groups.0', /Ansible group name/],
  ['bad mac', spec('mac: "aa:bb:cc:dd:ee:ff"'), 'guests.g1.mac', /52:54:00/],
  ['wrong type for guests', 'guests: [a, b]\n', 'guests', /mapping of guest name/],
  ['no guests', 'guests: {}\n', 'guests', /no guests/],
  ['missing guests', 'network: default\n', 'guests', /is required/],
  ['string for vcpus', spec('vcpus: "four"'), 'guests.g1.vcpus', /whole number of vCPUs/],
  ['array for disks', spec('disks: [/dev/vdb]'), 'guests.g1.disks', /expected record|expected object/i],
  ['too many nvme controllers', spec('disks:\n  /dev/nvme16n1: { size: 1GiB }'), 'guests.g1.disks./dev/nvme16n1', /at most 16 NVMe controllers/],
  ['duplicate YAML key', 'guests:\n  g1: {}\n  g1: {}\n', 'line 3', /YAML syntax: Map keys must be unique/],
  ['YAML syntax error', 'guests:\n  g1: { memory: 1GiB\n', 'line', /YAML syntax/],
  ['not a mapping', '- a\n- b\n', '', /must be a mapping/],
  ['unicode guest name', `guests:\n  gäst: {}\n`, 'guests.gäst', /valid hostname/],
  ['NUL in mkfsArgs', spec('storage:\n  /mnt/a: { device: /dev/vdb, size: 1GiB, fsType: xfs, mkfsArgs: ["-L\\0x"] }'), 'guests.g1.storage./mnt/a.mkfsArgs.0', /control character/],
];

describe('invalid specs', () => {
  it('has a large corpus', () => expect(cases.length).toBeGreaterThanOrEqual(40));
  it.each(cases)('%s', (_name, text, path, message) => {
    const r = parseSpec(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const hit = r.issues.find((i) => i.path.startsWith(path) && message.test(i.message));
    expect(hit, `issues were:\n${r.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`).toBeDefined();
  });

  it('reports every issue at once, not just the first', () => {
    const r = parseSpec(spec('memory: 4GB\nvcpus: 0\ndisks:\n  /dev/sdb: { size: 1GiB }'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['guests.g1.memory', 'guests.g1.vcpus']));
  });
});

describe('warnings', () => {
  it('accepts a logical block larger than 4 KiB with a warning about the guest kernel', () => {
    const r = parseSpec(spec('disks:\n  /dev/nvme0n1: { size: 1GiB, logicalBlockSize: 16384 }'));
    expect(r.ok).toBe(true);
    expect(r.warnings[0]?.message).toMatch(/larger than the 4 KiB page/);
  });
});
