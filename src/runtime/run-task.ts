import { JobDefinitionError } from '../errors.js';
import type { Job } from '../job/types.js';
import { runMapTask } from '../mapper/map-task.js';
import type { Task, TaskResult } from '../protocol/task-types.js';
import { runMergeTask } from '../reducer/merge-task.js';
import { runReduceTask } from '../reducer/reduce-task.js';
import type { Stream } from '../stream/types.js';
import { faultPlan } from '../task/faults.js';
import { runStreamBatchTask } from './stream-batch-task.js';
import { runWithFaults } from './task-faults.js';

/**
 * Runs any task with the job's code: the one entry both the worker pool and Lambda call. Under
 * FANOUT_FAULTS the attempt runs with fault injection; otherwise this costs one test per attempt.
 */
export function runTask(job: Job | Stream, task: Task): Promise<TaskResult> {
  if (faultPlan()) return runWithFaults(task, () => runJobTask(job, task));
  return runJobTask(job, task);
}

function runJobTask(job: Job | Stream, task: Task): Promise<TaskResult> {
  if (task.kind === 'stream-batch') {
    if (job.kind !== 'fanout.stream')
      return mismatch('a stream-batch task needs a stream job (defineStream)');
    return runStreamBatchTask(job, task);
  }
  if (job.kind !== 'fanout.job') return mismatch(`a ${task.kind} task needs a batch job (defineJob)`);
  switch (task.kind) {
    case 'map':
      return runMapTask(job, task);
    case 'reduce':
      return runReduceTask(job, task);
    case 'merge':
      return runMergeTask(task);
  }
}

function mismatch(message: string): Promise<never> {
  return Promise.reject(new JobDefinitionError(message));
}
