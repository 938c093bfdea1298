// The one way text from a guest (its serial console, its ssh banner) reaches the user's terminal:
// escape sequences and control characters are made visible instead of being obeyed. A guest (root
// in it, or a test that went wrong) could otherwise retitle, clear or reprogram the terminal of the
// root user reading flakevirt's output.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Guest text safe to print: escape sequences dropped, other controls shown as ^X or \xNN; \n and \t kept. */
export function printable(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(ESCAPES, '').replace(CONTROLS, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x20 ? `^${String.fromCharCode(n + 64)}` : n === 0x7f ? '^?' : `\\x${n.toString(16)}`;
  });
}
