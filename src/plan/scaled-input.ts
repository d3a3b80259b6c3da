import { basename } from 'node:path';
import type { InputObject } from '../driver/list-inputs.js';
import { UsageError } from '../errors.js';

/** The input a plan or simulation sizes for: `bytes` in total, in `files` objects. */
export interface InputScale {
  /** Total bytes. @default the listed input's */
  bytes?: number;
  /** Objects. @default as many as the listed objects' mean size gives */
  files?: number;
}

/** Where the scaled input lives in a simulation (see simulateJob). */
export const SCALED_INPUT_STORE = 'sim://input';

/**
 * The listed input grown (or shrunk) to `scale`: objects of equal size, named after the listed ones
 * in turn, under SCALED_INPUT_STORE. A sample of a dataset then plans and simulates as the whole
 * of it would (`mr plan --input-size 100GB --input-files 1000`). Without a scale, the listing as it is.
 * @throws {UsageError} for an empty listing or a scale of no bytes.
 */
export function scaleInput(listed: readonly InputObject[], scale: InputScale): InputObject[] {
  const total = listed.reduce((n, x) => n + x.size, 0);
  if (total === 0) throw new UsageError('the input holds no bytes to plan from');
  const bytes = Math.round(scale.bytes ?? total);
  const files = Math.max(1, Math.round(scale.files ?? Math.max(1, (bytes / total) * listed.length)));
  if (bytes < files) throw new UsageError(`--input-size ${bytes} bytes cannot fill ${files} files`);
  return Array.from({ length: files }, (_, i) => {
    const from = listed[i % listed.length] as InputObject;
    const size = Math.floor((bytes * (i + 1)) / files) - Math.floor((bytes * i) / files);
    return { store: SCALED_INPUT_STORE, key: `${String(i).padStart(6, '0')}-${basename(from.key)}`, size };
  });
}
