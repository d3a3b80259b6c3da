import { describe, expect, it } from 'vitest';
import { TaskStatusTable } from '../../../src/driver/task-status-table.js';

describe('TaskStatusTable', () => {
  it('keeps each task state, attempt and last error in the order the tasks were named', () => {
    const t = new TaskStatusTable(['b', 'a', 'c']);
    t.set('a', 'running', 1001);
    t.set('a', 'retrying', 1001, 'boom');
    // A task running again keeps its last error until it commits.
    t.set('a', 'running', 1002);
    expect(t.get('a')).toEqual({ state: 'running', attempts: 1002, error: 'boom' });
    t.set('a', 'committed', 1002);
    t.clearError('a');
    t.set('c', 'failed', 3, 'bad line');
    expect([...t.entries()]).toEqual([
      ['b', { state: 'pending', attempts: 0 }],
      ['a', { state: 'committed', attempts: 1002 }],
      ['c', { state: 'failed', attempts: 3, error: 'bad line' }],
    ]);
    expect(t.size).toBe(3);
    expect(t.get('nope')).toBeUndefined();
  });
});
