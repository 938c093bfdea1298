// The one way a value becomes a udev rule match value or symlink name: only characters that udev
// takes literally (no glob * ? [ ], no quote, no $ or % substitution, no space). Serials and disk
// names are validated to this set already; anything else here is a bug, not a user error.
export function udevValue(v: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(v)) throw new Error(`internal: ${JSON.stringify(v)} cannot be a literal udev value`);
  return v;
}
