import { createHash } from 'node:crypto';
import type { ObjectStore } from '../store/object-store.js';

/**
 * An order-independent summary of the lines of a job's part files: two outputs holding the same
 * multiset of lines, however the lines are spread over parts and ordered within them, have the same
 * fingerprint; any other pair differs, but for a 2^-128 chance.
 */
export interface OutputFingerprint {
  lines: number;
  /** Bytes of the lines, newlines excluded. */
  bytes: number;
  /** Sum, mod 2^128, of the first 16 bytes of each line's SHA-256, as 32 hex digits. */
  hash: string;
}

const NEWLINE = 0x0a;
const MOD = 1n << 128n;

/** Adds up line hashes, fed one chunk of a part file at a time. */
class LineSum {
  lines = 0;
  bytes = 0;
  #sum = 0n;
  /** The start of a line cut by the end of the last chunk. */
  #carry: Uint8Array[] = [];

  /** Feeds the next chunk of the current part file. */
  push(chunk: Uint8Array): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      this.#carry.push(chunk.subarray(start, nl));
      this.#line(Buffer.concat(this.#carry));
      this.#carry = [];
      start = nl + 1;
    }
    if (start < chunk.length) this.#carry.push(chunk.slice(start));
  }

  /** Ends the current part file: a last line without a newline still counts. */
  endPart(): void {
    if (this.#carry.length > 0) this.#line(Buffer.concat(this.#carry));
    this.#carry = [];
  }

  fingerprint(): OutputFingerprint {
    return { lines: this.lines, bytes: this.bytes, hash: this.#sum.toString(16).padStart(32, '0') };
  }

  #line(line: Buffer): void {
    const digest = createHash('sha256').update(line).digest();
    const value = (digest.readBigUInt64BE(0) << 64n) | digest.readBigUInt64BE(8);
    this.#sum = (this.#sum + value) % MOD;
    this.lines++;
    this.bytes += line.length;
  }
}

/**
 * Reads every part file of an output (`parts`, as `JobResult.parts` names them, relative to the
 * output's store) and returns its fingerprint.
 */
export async function fingerprintOutput(
  out: ObjectStore,
  parts: readonly string[],
): Promise<OutputFingerprint> {
  const sum = new LineSum();
  for (const part of parts) {
    for await (const chunk of out.stream(part)) sum.push(chunk);
    sum.endPart();
  }
  return sum.fingerprint();
}

/** Whether two fingerprints are of the same multiset of lines. */
export function sameOutput(a: OutputFingerprint, b: OutputFingerprint): boolean {
  return a.lines === b.lines && a.bytes === b.bytes && a.hash === b.hash;
}

/** How two outputs differ, in words, for the error that names their runs: e.g. `12 vs 13 lines`. */
export function describeDifference(a: OutputFingerprint, b: OutputFingerprint): string {
  if (a.lines !== b.lines) return `${a.lines} vs ${b.lines} lines`;
  if (a.bytes !== b.bytes) return `${a.lines} lines each, ${a.bytes} vs ${b.bytes} bytes`;
  return `${a.lines} lines and ${a.bytes} bytes each, but not the same lines`;
}
