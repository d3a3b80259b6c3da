/** Map outputs one merge task reads, where the combining tier runs on its own. */
export const DEFAULT_MERGE_FAN_IN = 32;

/**
 * Slices (map tasks x partitions) from which a stage on a remote backend merges on its own: at 20 ms
 * a request and 4 in flight, 32,768 slices over 8 reducers is half a minute of waiting per reducer,
 * and $0.013 of GETs; merged, 1,024 map outputs are read as 1,024 GETs plus 32 x 8.
 */
export const AUTO_MERGE_SLICES = 32_768;

/**
 * How many map outputs each merge task of a stage reads, or undefined when the stage runs no merge
 * phase: as asked (`mergeFanIn`; 0 is off), or on a remote backend for a stage of at least
 * AUTO_MERGE_SLICES slices. A stage of fewer map tasks than two merges' worth is never merged on its
 * own; asked for, one of more than one map task is.
 */
export function mergeFanIn(
  asked: number | undefined,
  mapTasks: number,
  partitions: number,
  remote: boolean,
): number | undefined {
  if (asked === 0 || mapTasks < 2) return undefined;
  if (asked !== undefined) return Math.min(asked, mapTasks);
  if (!remote || mapTasks * partitions < AUTO_MERGE_SLICES || mapTasks < 2 * DEFAULT_MERGE_FAN_IN)
    return undefined;
  return DEFAULT_MERGE_FAN_IN;
}
