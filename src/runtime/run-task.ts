import type { Job } from '../job/types.js';
import { runMapTask } from '../mapper/map-task.js';
import { runReduceTask } from '../reducer/reduce-task.js';
import type { Task, TaskResult } from './task-types.js';

/** Runs any task with the job's code: the one entry both the worker pool and Lambda call. */
export function runTask(job: Job, task: Task): Promise<TaskResult> {
  switch (task.kind) {
    case 'map':
      return runMapTask(job, task);
    case 'reduce':
      return runReduceTask(job, task);
  }
}
