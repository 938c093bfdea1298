// The emulated NVMe bus: /dev/nvmeXnY is namespace Y of controller X; the serial is the
// controller's; mdts and atomics are controller-wide, namespace atomics and zones per namespace.
import type { NvmeAtomic, NvmeDisk } from '../../model.js';
import type { SpecIssue } from '../../errors.js';
import type { RawDisk, RawStorage } from '../../spec/schema.js';
import type { DiskBus, PlacedDisk, QemuNeed } from '../bus.js';
import { firstGap } from '../numbering.js';
import { parseSize, formatSize, MiB } from '../../spec/units.js';
import { guestPathFor, nvmeSerial } from '../../render/identity.js';
import { udevValue as u } from '../../escape/udev.js';
import { nvmeById } from '../../render/identity.js';
import { qemuOptions } from '../../escape/qemu.js';
import { libvirtDisk } from '../libvirt-disk.js';

/** Highest NVMe controller index: each gets its own pcie-root-port at pcie.0 slot 0x10 + index. */
export const MAX_NVME_CONTROLLERS = 16;
/** Highest namespace id per controller that flakevirt lays out. */
export const MAX_NVME_NAMESPACES = 32;
/** Fields that belong to the controller: written on one namespace, they hold for all of its namespaces. */
const CONTROLLER_FIELDS = ['mdts', 'atomic', 'serial'] as const;

type NvmeRef = { bus: 'nvme'; name: string; controller: number; nsid: number };

/** First pcie.0 slot used for NVMe root ports; libvirt fills slots from 0x01 upwards for its own. */
export const NVME_PORT_FIRST_SLOT = 0x10;
export const NVME_PORT_FIRST_CHASSIS = 50;

const ATOMIC_WHY = 'NVMe atomic write units on the controller need QEMU ≥ 9.2';
const NS_ATOMIC_WHY = 'namespace atomic write units (NAWUN/NAWUPF) need a QEMU newer than 10.0';

export const nvme: DiskBus<NvmeDisk> = {
  name: 'nvme',
  noun: 'an NVMe namespace',
  devices: '/dev/nvme0n1, /dev/nvme1n1, …',
  parseDevice(device) {
    const m = /^\/dev\/nvme(0|[1-9]\d?)n([1-9]\d?)$/.exec(device);
    if (!m) return undefined;
    const controller = Number(m[1]);
    const nsid = Number(m[2]);
    if (controller >= MAX_NVME_CONTROLLERS) return { error: `"${device}": at most ${MAX_NVME_CONTROLLERS} NVMe controllers (nvme0 … nvme${MAX_NVME_CONTROLLERS - 1})` };
    if (nsid > MAX_NVME_NAMESPACES) return { error: `"${device}": at most ${MAX_NVME_NAMESPACES} namespaces per controller` };
    return { bus: 'nvme', name: device.slice(5), controller, nsid };
  },
  checkGuest(at, disks) {
    const issues: SpecIssue[] = [];
    if (!disks.length) return issues;
    const gap = firstGap(disks.map((d) => d.ref.controller), 0);
    if (gap !== undefined) issues.push({ path: at, message: `NVMe controllers must be numbered without gaps from nvme0: /dev/nvme${gap}n1 is missing` });
    for (const c of new Set(disks.map((d) => d.ref.controller))) {
      const nsGap = firstGap(disks.filter((d) => d.ref.controller === c).map((d) => d.ref.nsid), 1);
      if (nsGap !== undefined) issues.push({ path: at, message: `namespaces of nvme${c} must be numbered without gaps from n1: /dev/nvme${c}n${nsGap} is missing` });
    }
    // Controller-wide settings written on several namespaces of one controller must agree.
    const first = new Map<number, PlacedDisk<NvmeRef>>();
    for (const d of disks) {
      const prev = first.get(d.ref.controller);
      if (!prev) {
        first.set(d.ref.controller, d);
        continue;
      }
      for (const f of CONTROLLER_FIELDS) {
        const a = JSON.stringify(prev.decl[f]);
        const b = JSON.stringify(d.decl[f]);
        if (b !== undefined && a !== b) {
          issues.push({ path: `${d.path.replace(/\.device$/, '')}.${f}`, message: `${f} belongs to controller nvme${d.ref.controller} and differs from ${prev.device}'s; write it once, on ${prev.device}` });
        }
      }
    }
    return issues;
  },
  checkDisk(base, d, sizeBytes) {
    const issues: SpecIssue[] = [];
    const { logicalBlockSize: lbs, physicalBlockSize: pbs } = d.decl;
    if (lbs !== undefined && pbs !== undefined && lbs !== pbs) {
      issues.push({ path: `${base}.physicalBlockSize`, message: `QEMU's NVMe namespaces need logicalBlockSize = physicalBlockSize (got ${lbs} and ${pbs}); set both to the same value` });
    }
    if (d.decl.zoned && sizeBytes !== undefined) checkZoned(`${base}.zoned`, d.decl.zoned, sizeBytes, lbs ?? pbs ?? 512, issues);
    return issues;
  },
  normalize(common, ref, decl, guest) {
    const mine = guest.filter((x) => x.ref.bus === 'nvme' && x.ref.controller === ref.controller).map((x) => x.decl);
    // Controller-wide fields may be written on any of its namespaces (the rules made sure they agree).
    const serial = mine.find((x) => x.serial)?.serial ?? nvmeSerial(ref.controller);
    const mdts = mine.find((x) => x.mdts !== undefined)?.mdts;
    const atomic: NvmeAtomic | undefined = mine.find((x) => x.atomic !== undefined)?.atomic;
    // QEMU NVMe needs logical = physical; one given means both.
    const lbs = decl.logicalBlockSize ?? decl.physicalBlockSize;
    return {
      ...common,
      ...(lbs !== undefined && { logicalBlockSize: lbs, physicalBlockSize: lbs }),
      bus: 'nvme', controller: ref.controller, nsid: ref.nsid, serial, byId: nvmeById(serial, ref.nsid), guestPath: guestPathFor(ref.name),
      ...(mdts !== undefined && { mdts }),
      ...(atomic !== undefined && { atomic }),
      ...(decl.nawun !== undefined && { nawun: decl.nawun }),
      ...(decl.nawupf !== undefined && { nawupf: decl.nawupf }),
      ...(decl.zoned && {
        zoned: {
          zoneSizeBytes: bytes(decl.zoned.zoneSize),
          ...(decl.zoned.zoneCapacity !== undefined && { zoneCapacityBytes: bytes(decl.zoned.zoneCapacity) }),
          ...(decl.zoned.maxOpen !== undefined && { maxOpen: decl.zoned.maxOpen }),
          ...(decl.zoned.maxActive !== undefined && { maxActive: decl.zoned.maxActive }),
        },
      }),
    };
  },
  setting: 'an NVMe setting',
  ownFields: ['mdts', 'atomic', 'nawun', 'nawupf', 'zoned'],
  rank: 0,
  compare: (a, b) => a.controller - b.controller || a.nsid - b.nsid,
  describe(d) {
    const parts: string[] = [];
    if (d.mdts !== undefined) parts.push(`mdts=${d.mdts}`);
    if (d.atomic) parts.push(`atomic=${JSON.stringify(d.atomic)}`);
    if (d.nawun !== undefined) parts.push(`nawun=${d.nawun}`);
    if (d.nawupf !== undefined) parts.push(`nawupf=${d.nawupf}`);
    if (d.zoned) parts.push(`zoned=${JSON.stringify(d.zoned)}`);
    return parts;
  },
  // udev ignores trailing whitespace of sysfs values (QEMU pads NVMe serials to 20 characters);
  // ATTRS{serial} is on the controller or subsystem above the namespace, nsid on the namespace
  // itself; the hidden multipath path devices (nvme0c0n1) are left out.
  udevRule: (d) => `SUBSYSTEM=="block", KERNEL=="nvme*n*", KERNEL!="nvme*c*n*", ENV{DEVTYPE}=="disk", ATTRS{serial}=="${u(d.serial)}", ATTR{nsid}=="${d.nsid}", SYMLINK+="flakevirt/${u(d.name)}"`,
  byId: (d) => nvmeById(d.serial, d.nsid),
  qemuNeeds(d, first) {
    const out: QemuNeed[] = [];
    // mdts and atomic.* belong to the controller: checked once, on its first namespace.
    if (first && d.mdts !== undefined) out.push({ field: 'mdts', device: 'nvme', props: ['mdts'], why: 'mdts needs QEMU ≥ 5.1' });
    for (const k of ['awun', 'awupf', 'dn'] as const) if (first && d.atomic?.[k] !== undefined) out.push({ field: `atomic.${k}`, device: 'nvme', props: [`atomic.${k}`], why: ATOMIC_WHY });
    if (d.nawun !== undefined) out.push({ field: 'nawun', device: 'nvme-ns', props: ['atomic.nawun'], why: NS_ATOMIC_WHY });
    if (d.nawupf !== undefined) out.push({ field: 'nawupf', device: 'nvme-ns', props: ['atomic.nawupf'], why: NS_ATOMIC_WHY });
    if (d.zoned) {
      out.push({
        field: 'zoned', device: 'nvme-ns', why: 'zoned namespaces need QEMU ≥ 6.0',
        props: ['zoned', 'zoned.zone_size', ...(d.zoned.zoneCapacityBytes !== undefined ? ['zoned.zone_capacity'] : []), ...(d.zoned.maxOpen !== undefined ? ['zoned.max_open'] : []), ...(d.zoned.maxActive !== undefined ? ['zoned.max_active'] : [])],
      });
    }
    return out;
  },
  needsQemuArguments: (d) => d.mdts !== undefined || !!d.atomic || d.nawun !== undefined || d.nawupf !== undefined || !!d.zoned,
  // Below libvirt 11.5 NVMe goes through <qemu:commandline>, which libvirt does not relabel.
  fileInQemuArguments: (facts) => facts.nvme === 'commandline',
  kernelParams: (d) => (d.atomic || d.nawun !== undefined || d.nawupf !== undefined ? [{
    param: 'nvme_core.multipath=N',
    why: [
      'Atomic-write limits show on the NVMe path device (nvme0c0n1) but not on the multipath head',
      '(nvme0n1) with native multipath on; turn it off so tests see them on /dev/nvmeXnY.',
    ],
  }] : []),
  domainOrder: 1,
  // QEMU's NVMe controller registers its state as unmigratable (hw/nvme/ctrl.c, `nvme_vmstate`
  // with `.unmigratable = 1`, still so in QEMU 10.0): savevm, libvirt's save and external snapshots
  // with memory all stop at "State blocked by non-migratable device '…/nvme'" (seen here).
  noCheckpoint: "QEMU's NVMe controller cannot save its state (hw/nvme/ctrl.c marks it unmigratable), so a guest with an NVMe disk has no checkpoint: use virtio disks (/dev/vdb …) for a guest you crash and reset, or `flakevirt reimage`",
  // libvirt ≥ 11.5 has an NVMe bus of its own (<controller type='nvme'> + <disk bus='nvme'>); below
  // that, and for fields libvirt cannot express, the controllers and namespaces are QEMU arguments.
  domain(disks, facts, fileOf) {
    if (facts.nvme === 'native') {
      return {
        disks: disks.map((d) => libvirtDisk(d, fileOf(d), { discard: 'unmap' })),
        controllers: controllers(disks).map((c) => ({ type: 'nvme', index: c[0]!.controller, serial: c[0]!.serial })),
        qemuArgs: [],
      };
    }
    return { disks: [], controllers: [], qemuArgs: disks.length ? nvmeArguments(disks, fileOf) : [] };
  },
  record: (d) => ({
    nsid: d.nsid,
    controller: `nvme${d.controller}`,
    mdts: d.mdts ?? null,
    atomic: d.atomic || d.nawun !== undefined || d.nawupf !== undefined
      ? { ...d.atomic, ...(d.nawun !== undefined && { nawun: d.nawun }), ...(d.nawupf !== undefined && { nawupf: d.nawupf }) }
      : null,
    zoned: d.zoned ?? null,
  }),
};

/** Namespaces grouped by controller, in controller order. */
function controllers(nvme: NvmeDisk[]): NvmeDisk[][] {
  const by = new Map<number, NvmeDisk[]>();
  for (const d of nvme) by.set(d.controller, [...(by.get(d.controller) ?? []), d]);
  return [...by.keys()].sort((a, b) => a - b).map((c) => by.get(c)!);
}

/** nvme-ns properties of a zoned namespace (sizes in bytes, which QEMU's size parser takes). */
function zonedProps(d: NvmeDisk): Array<[string, string | number | boolean | undefined]> {
  if (!d.zoned) return [];
  return [['zoned', true], ['zoned.zone_size', d.zoned.zoneSizeBytes], ['zoned.zone_capacity', d.zoned.zoneCapacityBytes], ['zoned.max_open', d.zoned.maxOpen], ['zoned.max_active', d.zoned.maxActive]];
}

/**
 * QEMU arguments for NVMe on libvirt without an emulated NVMe bus: one pcie-root-port per
 * controller at a fixed pcie.0 slot (a bare -device nvme takes a slot libvirt gives its own
 * root ports), the controller on that port, and one nvme-ns per namespace fed by -blockdev
 * with O_DIRECT + native AIO (writeback-cached files can outlast the guest's NVMe I/O timeout).
 */
export function nvmeArguments(nvme: NvmeDisk[], fileOf: (d: NvmeDisk) => string): string[] {
  const args: string[] = [];
  for (const namespaces of controllers(nvme)) {
    const c = namespaces[0]!;
    const ctrl = `fv-nvme${c.controller}`;
    const port = `${ctrl}-port`;
    args.push('-device', qemuOptions('pcie-root-port', [
      ['id', port], ['bus', 'pcie.0'], ['addr', `0x${(NVME_PORT_FIRST_SLOT + c.controller).toString(16)}`], ['chassis', NVME_PORT_FIRST_CHASSIS + c.controller],
    ]));
    for (const d of namespaces) {
      const node = `fv-${d.name}`;
      args.push('-blockdev', qemuOptions('driver=file', [['node-name', `${node}-file`], ['filename', fileOf(d)], ['cache.direct', true], ['aio', 'native']]));
      args.push('-blockdev', qemuOptions(`driver=${d.format}`, [['node-name', node], ['file', `${node}-file`], ['cache.direct', true]]));
    }
    args.push('-device', qemuOptions('nvme', [
      ['id', ctrl], ['serial', c.serial], ['bus', port], ['addr', '0x0'], ['mdts', c.mdts],
      ['atomic.dn', c.atomic?.dn], ['atomic.awun', c.atomic?.awun], ['atomic.awupf', c.atomic?.awupf],
    ]));
    for (const d of namespaces) {
      args.push('-device', qemuOptions('nvme-ns', [
        ['drive', `fv-${d.name}`], ['bus', ctrl], ['nsid', d.nsid],
        ['logical_block_size', d.logicalBlockSize], ['physical_block_size', d.physicalBlockSize],
        ['atomic.nawun', d.nawun], ['atomic.nawupf', d.nawupf],
        ...zonedProps(d),
      ]));
    }
  }
  return args;
}

function bytes(v: string | number): number {
  const r = parseSize(v);
  if (!('bytes' in r)) throw new Error(`internal: unvalidated size ${String(v)}`);
  return r.bytes;
}

function checkZoned(at: string, z: NonNullable<(RawDisk | RawStorage)['zoned']>, diskBytes: number, block: number, issues: SpecIssue[]): void {
  const zs = parseSize(z.zoneSize);
  if (!('bytes' in zs)) return;
  if (zs.bytes < MiB || zs.bytes % block !== 0) issues.push({ path: `${at}.zoneSize`, message: `${formatSize(zs.bytes)} must be at least 1MiB and a multiple of the ${block}-byte block` });
  else if (diskBytes % zs.bytes !== 0) issues.push({ path: `${at}.zoneSize`, message: `the disk size (${formatSize(diskBytes)}) must be a whole number of ${formatSize(zs.bytes)} zones` });
  if (z.zoneCapacity !== undefined) {
    const zc = parseSize(z.zoneCapacity);
    if ('bytes' in zc && (zc.bytes > zs.bytes || zc.bytes % block !== 0)) issues.push({ path: `${at}.zoneCapacity`, message: `must be at most zoneSize (${formatSize(zs.bytes)}) and a multiple of the ${block}-byte block` });
  }
  if (z.maxOpen && z.maxActive && z.maxOpen > z.maxActive) issues.push({ path: `${at}.maxOpen`, message: `maxOpen (${z.maxOpen}) cannot exceed maxActive (${z.maxActive})` });
}
