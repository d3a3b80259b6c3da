import type { InputFile, MapContext, TaskContext } from '../job/types.js';
import type { Split } from '../protocol/task-types.js';

/** What `ctx.input` says while a split's records are mapped: its object and the range owned. */
export function inputFileOf(split: Split): InputFile {
  const root = split.store.endsWith('/') ? split.store : `${split.store}/`;
  return { url: `${root}${split.key}`, key: split.key, start: split.start, end: split.end, size: split.size };
}

/** The context `map` gets for the records of `split`. */
export function mapContext(ctx: TaskContext, split: Split): MapContext {
  return { ...ctx, input: inputFileOf(split) };
}
