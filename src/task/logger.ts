import type { Logger } from '../job/types.js';

type Level = 'info' | 'warn' | 'error';

/** Where log lines go; the default writes one line per entry to stderr. */
export type LogSink = (level: Level, line: string) => void;

export const stderrSink: LogSink = (_level, line) => {
  process.stderr.write(`${line}\n`);
};

/** A logger whose every line starts with the job id and task id. */
export function createLogger(scope: { jobId: string; taskId?: string }, sink: LogSink = stderrSink): Logger {
  const prefix = scope.taskId ? `[${scope.jobId} ${scope.taskId}]` : `[${scope.jobId}]`;
  const emit = (level: Level) => (message: string, fields?: Record<string, unknown>) =>
    sink(
      level,
      `${prefix} ${level === 'info' ? '' : `${level}: `}${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`,
    );
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}
