// A bzImage as far as flakevirt reads one: the x86 boot protocol's setup header ("HdrS" at 0x202,
// the protocol version at 0x206, at 0x20e the offset less 0x200 of the version string), test data
// for the kernel checks (src/boot-kinds/kernel-build.ts, src/adapters/kernel.ts).
export function fakeBzImage(text: string, { magic = 'HdrS', version = 0x20f, pointer = 0x100 } = {}): Buffer {
  const b = Buffer.alloc(0x1000);
  b.write(magic, 0x202, 'latin1');
  b.writeUInt16LE(version, 0x206);
  b.writeUInt16LE(pointer, 0x20e);
  b.write(`${text}\0`, pointer + 0x200, 'latin1');
  return b;
}
