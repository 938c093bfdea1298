// The one way a value enters a QEMU -device / -blockdev option string.

/** QEMU's option syntax splits on ","; a literal comma is written ",,". */
export function qemuValue(value: string | number | boolean): string {
  const s = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
  if (/[\u0000-\u001f]/.test(s)) throw new Error(`internal: control character in QEMU option value ${JSON.stringify(s)}`);
  return s.replace(/,/g, ',,');
}

/** "driver,key=value,…" with every value escaped; undefined values are left out. */
export function qemuOptions(driver: string, props: ReadonlyArray<[string, string | number | boolean | undefined]>): string {
  return [driver, ...props.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${qemuValue(v!)}`)].join(',');
}
