// The virsh adapter's argv: a name that starts with "-" never reaches virsh as an operand.
import { describe, expect, it } from 'vitest';
import { operand } from '../../src/adapters/virsh.js';

describe('virsh operands', () => {
  it('passes names through and refuses what virsh would read as an option', () => {
    expect(operand('default')).toBe('default');
    expect(operand('fv-vdb.qcow2')).toBe('fv-vdb.qcow2');
    for (const bad of ['--help', '-c', '']) expect(() => operand(bad), bad).toThrow(/cannot be a virsh operand/);
  });
});
