/** Backslash escapes JSON.stringify writes for control characters that have one: \b \t \n \f \r. */
export const SHORT_ESCAPES = (() => {
  const t = new Uint8Array(0x20);
  t[0x08] = 0x62;
  t[0x09] = 0x74;
  t[0x0a] = 0x6e;
  t[0x0c] = 0x66;
  t[0x0d] = 0x72;
  return t;
})();
/** Lowercase hex digits, for `\u00XX` escapes. */
export const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** 1 for the bytes a JSON string holds as they are: all but control characters, '"' and '\\'. */
const PLAIN = (() => {
  const t = new Uint8Array(256).fill(1);
  t.fill(0, 0, 0x20);
  t[0x22] = 0;
  t[0x5c] = 0;
  return t;
})();

/** Most bytes writeJsonString writes for `n` bytes of UTF-8: every one escaped as \u00XX, and quotes. */
export const jsonStringBytes = (n: number): number => 2 + 6 * n;

/**
 * Writes the JSON string of the UTF-8 text `src[from, to)` into `dst` at `pos`, quotes included,
 * byte for byte as JSON.stringify writes the decoded text (valid UTF-8 holds no lone surrogate, the
 * one thing it escapes beyond quotes, backslashes and control characters). `dst` must have room for
 * jsonStringBytes(to - from) bytes. Returns the position after what was written.
 */
export function writeJsonString(src: Uint8Array, from: number, to: number, dst: Buffer, pos: number): number {
  let p = pos;
  dst[p++] = 0x22;
  for (let k = from; k < to; k++) {
    const c = src[k] as number;
    if (PLAIN[c] === 1) {
      dst[p++] = c;
      continue;
    }
    dst[p++] = 0x5c;
    const short = c === 0x22 || c === 0x5c ? c : (SHORT_ESCAPES[c] as number);
    if (short !== 0) dst[p++] = short;
    else {
      dst[p++] = 0x75; // u00XX, lowercase hex as JSON.stringify writes it
      dst[p++] = 0x30;
      dst[p++] = 0x30;
      dst[p++] = HEX[c >> 4] as number;
      dst[p++] = HEX[c & 15] as number;
    }
  }
  dst[p++] = 0x22;
  return p;
}
