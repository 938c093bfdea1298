// An extra disk as libvirt's own <disk> element, the part every bus shares: the file, O_DIRECT with
// native AIO, the serial udev names it by, and the block sizes. A bus adds its driver settings.
import type { Disk } from '../model.js';
import type { DomainDisk } from '../libvirt-xml/domain.js';

export function libvirtDisk(d: Disk, file: string, driver: { discard: 'unmap' | 'ignore'; queues?: number }): DomainDisk {
  const blockio = d.logicalBlockSize !== undefined || d.physicalBlockSize !== undefined
    ? { ...(d.logicalBlockSize !== undefined && { logicalBlockSize: d.logicalBlockSize }), ...(d.physicalBlockSize !== undefined && { physicalBlockSize: d.physicalBlockSize }) }
    : undefined;
  return {
    device: 'disk',
    driver: { name: 'qemu', type: d.format, cache: 'none', io: 'native', discard: driver.discard, ...(driver.queues !== undefined && { queues: driver.queues }) },
    source: { type: 'file', file },
    target: { dev: d.name, bus: d.bus },
    serial: d.serial,
    ...(blockio && { blockio }),
  };
}
