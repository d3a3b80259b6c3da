import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_BACKEND } from '../backends/backend.js';
import { FanoutError, JobCancelledError, TaskFailedError, UsageError } from '../errors.js';
import type { BenchFlags } from './bench-command.js';
import type { DeployFlags, DestroyFlags } from './deploy-command.js';
import type { PlanFlags } from './plan-command.js';
import type { RunFlags } from './run-command.js';

/** The flags `mr run` and `mr submit` share: where the job reads and writes, and how it runs. */
function runFlags(command: Command): Command {
  return command
    .option('-i, --input <path...>', 'input files, folders or globs; default: the sample data beside the job')
    .option(
      '-o, --output <dir>',
      'output folder (must not exist or be empty); default: a fresh folder under out/',
    )
    .option(
      '--output-format <format>',
      "part files as jsonl, csv, arrow or parquet (default: the job's output.format, else jsonl)",
    )
    .option('--output-compression <gzip|none>', "gzip jsonl or csv part files, or not (default: the job's)")
    .option(
      '--work <dir>',
      'folder or s3:// URL for job state and intermediate data (default: .fanout; aws: the output bucket)',
    )
    .option(
      '--backend <name>',
      'where tasks run: local (worker threads, the default) or aws (the Lambda runtime)',
    )
    .option('--function <name>', 'aws: the runtime function made by mr deploy (default fanout-runtime)')
    .option('--region <region>', 'aws: AWS region; default: AWS_REGION or the profile region')
    .option('-c, --concurrency <n>', 'tasks at once (local: worker threads); default: one per core')
    .option('-p, --partitions <n>', 'reduce partitions of stages that do not set their own (default 8)')
    .option('--split-size <size>', 'input bytes per map task, e.g. 64MiB, 4KiB, 1048576 (default 64MiB)')
    .option(
      '--merge-fan-in <n>',
      'merge map outputs this many at a time before the reducers read them; 0 never (default: aws, large stages, 32)',
    )
    .option('--max-attempts <n>', 'attempts per task before the job fails (default 3)')
    .option(
      '--memory-budget <size>',
      'memory a task uses for records before spilling to disk (default 256MiB)',
    )
    .option(
      '--task-timeout <duration>',
      "abandon and retry an attempt running longer, e.g. 90s, 15m (default 15m; aws: just under the function's timeout)",
    )
    .option('--allow-incomplete', 'read input folders of Fanout jobs that did not finish (no _SUCCESS)')
    .option(
      '--prices <file>',
      "JSON price table (or part of one) for the report's cost; default: FANOUT_PRICES, else us-east-1's",
    )
    .option(
      '--notify <target>',
      'when the run ends, send its summary or its error to sns:<topic-arn> or POST it to an https:// webhook (repeatable)',
      (v: string, all: string[] = []) => [...all, v],
    );
}

/**
 * Starts `mr run`'s local worker threads before the driver's modules load (startWorkersAhead): a
 * run's first task then starts about 80 ms sooner. Flags the run would refuse start none; the run
 * says what is wrong with them.
 */
async function localWorkersAhead(flags: RunFlags): Promise<() => Promise<void>> {
  const cores = availableParallelism();
  // As resolveOptions defaults them: the default backend, a worker per core.
  const count = flags.concurrency === undefined ? cores : Number(flags.concurrency);
  const local = (flags.backend ?? DEFAULT_BACKEND) === 'local';
  if (!local || !Number.isInteger(count) || count < 1 || count > 2 * cores) return async () => {};
  const ahead = (await import('../backends/local-pool.js')).startWorkersAhead(count);
  return () => ahead.stop();
}

/** Exit codes of `mr`. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

function program(): Command {
  const mr = new Command('mr')
    .description('Fanout: MapReduce over files, on local worker threads or AWS Lambda')
    .version(packageVersion(), '-V, --version', 'print the version of Fanout')
    .showHelpAfterError('(run mr --help for usage)')
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(str.startsWith('error:') ? `mr: ${str.slice(7)}` : str),
    });
  // Every command loads its module on use: `mr run` never loads the AWS SDK, esbuild's deploy
  // bundling or the emulators, and starts in a fraction of the time.
  runFlags(
    mr
      .command('run')
      .description('run a job file to completion')
      .argument('<job>', 'job file, e.g. jobs/wordcount.ts'),
  )
    .addOption(new Option('--json', 'print the summary as one JSON object'))
    .addOption(new Option('-q, --quiet', 'print only errors'))
    .action(async (job: string, flags: RunFlags) => {
      const stopAhead = await localWorkersAhead(flags);
      try {
        await (await import('./run-command.js')).runCommand(job, flags);
      } finally {
        await stopAhead();
      }
    });
  runFlags(
    mr
      .command('submit')
      .description(
        'run a job with its driver in the runtime function (aws), handing over near the time limit; returns at once',
      )
      .argument('<job>', 'job file, e.g. jobs/wordcount.ts'),
  )
    .option(
      '--reserve <duration>',
      "how long before the function's time limit a driver pauses and hands over to the next (default 60s)",
    )
    .addOption(new Option('--json', 'print the job id and work store as one JSON object'))
    .addOption(new Option('-q, --quiet', 'print only the job id (on stderr) and errors'))
    .action(async (job: string, flags: import('./submit-command.js').SubmitFlags) => {
      await (await import('./submit-command.js')).submitCommand(job, flags);
    });
  runFlags(
    mr
      .command('schedule')
      .description(
        "run a job on a schedule (EventBridge Scheduler), its driver in the runtime function as with mr submit; {date} and {time} in --input and --output are the run's due time",
      )
      .argument('<job>', 'job file, e.g. jobs/wordcount.ts'),
  )
    .option('--cron <fields>', "when, as EventBridge's six cron fields, e.g. '0 3 * * ? *' (03:00 every day)")
    .option('--rate <every>', "or how often, e.g. '1 hour', '15 minutes', '1 day'")
    .option('--timezone <zone>', 'IANA timezone of --cron and of {date} and {time} (default UTC)')
    .option('--name <name>', "the schedule's name, and its runs' job ids' start (default: the job's name)")
    .option('--role-arn <arn>', "role the schedule runs as (default: the stack's SchedulerRoleArn output)")
    .option('--stack-name <name>', 'stack made by mr deploy whose role to use (default: from --function)')
    .option('--reserve <duration>', 'as for mr submit (default 60s)')
    .option('--fire-now', 'mr dev only: also fire it once at once, as if due now')
    .action(async (job: string, flags: import('./schedule-command.js').ScheduleFlags) => {
      await (await import('./schedule-command.js')).scheduleCommand(job, flags);
    });
  mr.command('schedules')
    .description('list the schedules made by mr schedule')
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .option('--json', 'print them as one JSON array')
    .action(async (flags: { region?: string; json?: boolean }) => {
      await (await import('./schedule-command.js')).schedulesCommand(flags);
    });
  mr.command('unschedule')
    .description('delete a schedule made by mr schedule (runs already started go on)')
    .argument('<name>', 'the schedule, as mr schedules lists it')
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .action(async (name: string, flags: { region?: string }) => {
      await (await import('./schedule-command.js')).unscheduleCommand(name, flags);
    });
  runFlags(
    mr
      .command('on-upload')
      .description(
        'run a job over each new object under a prefix (S3 events through EventBridge), its driver in the runtime function',
      )
      .argument('<job>', 'job file, e.g. jobs/wordcount.ts'),
  )
    .option('--bucket <name>', 'the bucket to watch')
    .option('--prefix <prefix>', "objects whose keys start so, e.g. 'in/' (default: the whole bucket)")
    .option('--suffix <suffix>', "and end so, e.g. '.csv'")
    .option('--name <name>', "the rule's name, and its runs' job ids' start (default: the job's name)")
    .option('--reserve <duration>', 'as for mr submit (default 60s)')
    .action(async (job: string, flags: import('./upload-command.js').UploadFlags) => {
      await (await import('./upload-command.js')).onUploadCommand(job, flags);
    });
  mr.command('off-upload')
    .description('remove an upload rule made by mr on-upload (runs already started go on)')
    .argument('<name>', 'the rule, as mr on-upload named it')
    .option('--function <name>', 'the runtime function the rule invokes (default fanout-runtime)')
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .action(async (name: string, flags: { region?: string; function?: string }) => {
      await (await import('./upload-command.js')).offUploadCommand(name, flags);
    });
  mr.command('plan')
    .description('plan a job without running it: tasks, shuffle, S3 requests, estimated time and cost')
    .argument('<job>', 'job file, e.g. jobs/wordcount.ts')
    .option('-i, --input <path...>', 'input files, folders or globs (required)')
    .option('--backend <name>', 'where tasks would run: local (the default) or aws (Lambda)')
    .option(
      '-c, --concurrency <n>',
      'tasks at once (default: one per core locally, the account limit on aws)',
    )
    .option('--memory <mb>', 'function memory in MB (default 1769, one vCPU)')
    .option('--arch <arch>', 'function architecture: arm64 (the default) or x86_64')
    .option('-p, --partitions <n>', 'reduce partitions of stages that do not set their own (default 8)')
    .option('--split-size <size>', 'input bytes per map task, e.g. 64MiB (default 64MiB)')
    .option('--merge-fan-in <n>', 'map outputs per merge task of the combining tier; 0 never (see mr run)')
    .option('--set <name=value...>', 'change a figure of the model, e.g. readMBps=80 (see README, "Plan")')
    .option(
      '--calibrate',
      "measure the job's rates and sizes by running it locally on one split of the input (up to 64 MiB)",
    )
    .option('--prices <file>', 'price the estimate from this JSON price table (default: FANOUT_PRICES)')
    .option('--input-size <size>', 'plan for this much input, e.g. 100GB: the listed input as a sample of it')
    .option(
      '--input-files <n>',
      'in this many files of equal size (default: as many as the sample scales to)',
    )
    .option(
      '--simulate',
      "also run the job's driver against simulated Lambda and S3 on a virtual clock, and write its report",
    )
    .option('--seed <n>', "the simulation's seed for task spread, stragglers and failures (default 1)")
    .option('--report-dir <dir>', "where the simulated run's report goes (default .fanout/simulations/<id>)")
    .addOption(new Option('--json', 'print the plan as one JSON object'))
    .action(async (job: string, flags: PlanFlags) => {
      await (await import('./plan-command.js')).planCommand(job, flags);
    });
  mr.command('bench')
    .description(
      'run a job at several concurrencies, check the outputs agree, and report wall time, MB/s, speedup and cost',
    )
    .argument('<job>', 'job file, e.g. jobs/wordcount.ts')
    .option('-i, --input <path...>', 'input files, folders or globs (required)')
    .option(
      '--output-dir <dir>',
      "new or empty folder or s3:// URL for each run's output (runs/), bench.json and bench.svg; default: runs in a temporary folder, reports in out/bench-<job>-<time>/",
    )
    .option(
      '-c, --concurrency <list>',
      'concurrencies to measure, e.g. 1,2,4,8; default: powers of two up to the cores',
    )
    .option('--repeat <n>', 'timed runs per concurrency; the table shows their median (default 3)')
    .option('--warmup <n>', 'untimed runs at the lowest concurrency first (default 1)')
    .option(
      '--backend <name>',
      'where tasks run: local (worker threads, the default) or aws (the Lambda runtime)',
    )
    .option('--function <name>', 'aws: the runtime function made by mr deploy (default fanout-runtime)')
    .option('--region <region>', 'aws: AWS region; default: AWS_REGION or the profile region')
    .option(
      '--work <dir>',
      'folder or s3:// URL for job state (default: a temporary folder; aws: the output bucket)',
    )
    .option('--split-size <size>', 'input bytes per map task, e.g. 64MiB, 4KiB (default 64MiB)')
    .option('-p, --partitions <n>', 'reduce partitions of stages that do not set their own (default 8)')
    .option(
      '--memory <mb>',
      "local: the Lambda memory the task time is priced at (default 1769 = one vCPU); aws uses the function's",
    )
    .addOption(new Option('--json', 'print bench.json on stdout instead of the table'))
    .addOption(new Option('-q, --quiet', 'no progress lines on stderr'))
    .action(async (job: string, flags: BenchFlags) => {
      await (await import('./bench-command.js')).benchCommand(job, flags);
    });
  mr.command('resume')
    .description(
      'continue a job that stopped (a failed task, Ctrl-C, a killed driver): only uncommitted tasks run',
    )
    .argument('<job>', 'the job id, as mr run printed it')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .addOption(new Option('--json', 'print the summary as one JSON object'))
    .addOption(new Option('-q, --quiet', 'print only errors'))
    .action(async (job: string, flags: import('./run-command.js').ResumeFlags) => {
      await (await import('./run-command.js')).resumeCommand(job, flags);
    });
  mr.command('cancel')
    .description('stop a running job from anywhere that reaches its work store; it stays resumable')
    .argument('<job>', 'the job id, as mr run printed it')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .action(async (job: string, flags: { work?: string }) => {
      const state = await (await import('../driver/cancel-job.js')).cancelJob(job, {
        ...(flags.work !== undefined && { workDir: flags.work }),
      });
      process.stdout.write(
        state === 'running' ? `asked job ${job} to stop\n` : `job ${job} is not running (${state})\n`,
      );
    });
  mr.command('report')
    .description(
      "print where a job's report page is (index.html), building it again from the job's state if missing",
    )
    .argument('<job>', 'the job id, as mr run printed it')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .option('--prices <file>', 'price the report again from this JSON price table (default: FANOUT_PRICES)')
    .action(async (job: string, flags: import('./report-command.js').ReportFlags) => {
      await (await import('./report-command.js')).reportCommand(job, flags);
    });
  mr.command('jobs')
    .description('list the jobs in the work store: state, start, duration, input, output, intermediate data')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .option('--json', 'print the list as one JSON array')
    .action(async (flags: import('./jobs-command.js').JobsFlags) => {
      await (await import('./jobs-command.js')).jobsCommand(flags);
    });
  mr.command('status')
    .description('show where a running or finished job stands, from its state in the work store')
    .argument('<job>', 'the job id, as mr run printed it')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .option('--json', 'print the status as one JSON object')
    .action(async (job: string, flags: import('./jobs-command.js').JobsFlags) => {
      await (await import('./jobs-command.js')).statusCommand(job, flags);
    });
  mr.command('logs')
    .description(
      "print what a job's code logged (ctx.log) in each task attempt: CloudWatch Logs for aws jobs, else the work store",
    )
    .argument('<job>', 'the job id, as mr run printed it')
    .option('--task <id>', 'one task only, e.g. s0-m00003')
    .option('--source <where>', 'store (the copies tasks keep) or cloudwatch (aws jobs; their default)')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .action(async (job: string, flags: import('./jobs-command.js').LogsFlags) => {
      await (await import('./jobs-command.js')).logsCommand(job, flags);
    });
  mr.command('clean')
    .description("remove a finished job's intermediate data (its state stays, so it is still listed)")
    .argument('[job]', 'the job id, as mr run printed it')
    .option('--finished', 'clean every finished job (succeeded, failed, cancelled or abandoned)')
    .option('--work <dir>', 'folder or s3:// URL of job state (default: .fanout)')
    .action(async (job: string | undefined, flags: import('./jobs-command.js').JobsFlags) => {
      await (await import('./jobs-command.js')).cleanCommand(job, flags);
    });
  mr.command('deploy')
    .description('deploy (or update) the runtime function, its role, bucket and dead-letter queue on AWS')
    .option('--stack-name <name>', 'CloudFormation stack name', 'fanout')
    .option('--bucket <name>', 'use an existing bucket for job data; default: the stack creates one')
    .option('--memory <mb>', 'function memory, 128 to 10240 MB (default 1769 = one vCPU; kept on update)')
    .option('--timeout <s>', 'function timeout, 1 to 900 s (default 900; kept on update)')
    .option('--arch <arch>', 'arm64 or x86_64 (default arm64; kept on update)')
    .option(
      '--notify-topic <arn>',
      'an SNS topic jobs driven in the function (mr submit, schedules, uploads) may --notify (repeatable; kept on update)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .option('--print-template', 'print the CloudFormation template as JSON and touch nothing')
    .action(async (flags: DeployFlags) => {
      await (await import('./deploy-command.js')).deployCommand(flags);
    });
  mr.command('destroy')
    .description('delete the stack made by mr deploy (the bucket and its data are kept)')
    .option('--stack-name <name>', 'CloudFormation stack name', 'fanout')
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (flags: DestroyFlags) => {
      await (await import('./deploy-command.js')).destroyCommand(flags);
    });
  mr.command('dev')
    .description('run local S3, Lambda, Kinesis and SQS emulators on 127.0.0.1 and print their env exports')
    .option('--port-base <n>', 'S3 on n, Lambda n+1, Kinesis n+2, SQS n+3; 0 = any free ports (default 4600)')
    .option('--data <dir>', 'keep the S3 objects in this folder across restarts; default: removed on exit')
    .action(async (flags: import('./dev-command.js').DevFlags) => {
      await (await import('./dev-command.js')).devCommand(flags);
    });
  mr.command('cp')
    .description('copy local files, folders or globs to s3://bucket/prefix/ (or back, or between buckets)')
    .argument('<paths...>', 'sources, then the destination; end it with / to copy into a folder')
    .option('-q, --quiet', 'print only errors')
    .action(async (paths: string[], flags: import('./cp-command.js').CpFlags) => {
      await (await import('./cp-command.js')).cpCommand(paths, flags);
    });
  mr.command('stream')
    .description('consume a Kinesis stream with a stream job until Ctrl-C or --duration')
    .argument('<job>', 'stream job file, e.g. jobs/clickstream.ts')
    .option('--stream <name>', "stream name or ARN; default: the job's")
    .option(
      '--backend <name>',
      'where batches run: local (worker threads) or aws (the Lambda runtime)',
      'local',
    )
    .option('--function <name>', 'aws: the runtime function made by mr deploy (default fanout-runtime)')
    .option(
      '-c, --concurrency <n>',
      'batches at once across shards (local: worker threads); default: one per core',
    )
    .option('--duration <seconds>', 'stop cleanly after this many seconds')
    .option('--work <dir>', 'folder or s3:// URL for checkpoints (default: .fanout; aws: an s3:// URL)')
    .option('--shared', 'share the shards with other mr stream processes through leases in the --work store')
    .option('--auto-tune', 'raise parallelization up to 10 while iterator age grows, lower it when idle')
    .option('--lease-ms <ms>', 'with --shared: how long a lease lasts without renewal (default 10000)')
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .option('-q, --quiet', 'print only errors')
    .action(async (job: string, flags: import('./stream-command.js').StreamFlags) => {
      await (await import('./stream-command.js')).streamCommand(job, flags);
    });
  mr.command('stream-gen')
    .description('put JSON records { key, seq, ts } into a Kinesis stream at a steady rate')
    .option('--stream <name>', 'stream name')
    .option('--rate <n>', 'records per second (default 100)')
    .option('--keys <k>', 'distinct partition keys (default 10)')
    .option('--duration <seconds>', 'stop after this many seconds; default: until Ctrl-C')
    .option('--create', 'create the stream first')
    .option('--shards <n>', 'with --create: shard count (default 1)')
    .option('--region <region>', 'AWS region; default: AWS_REGION or the profile region')
    .action(async (flags: import('./stream-gen-command.js').StreamGenFlags) => {
      await (await import('./stream-gen-command.js')).streamGenCommand(flags);
    });
  return mr;
}

/**
 * A reader that goes away (`mr run … | head -1`) must not kill the run: a write to a closed pipe
 * fails with EPIPE, which would otherwise crash the process with no word and leave the job's status
 * at `running`. Later output to that stream is dropped; the run finishes and records its status.
 */
let survivingClosedPipes = false;
function surviveClosedPipes(): void {
  if (survivingClosedPipes) return;
  survivingClosedPipes = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
}

/** Runs `mr` with the given arguments and returns the exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  surviveClosedPipes();
  const mr = program();
  try {
    if (argv.length === 0) {
      mr.outputHelp();
      return EXIT.usage;
    }
    await mr.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // The first cause is the line a user reads; what failed while handling it is one line after.
    const also =
      err instanceof FanoutError
        ? `${alsoLine(err.also)}${err.report === undefined ? '' : `mr: report: ${err.report}\n`}`
        : '';
    if (err instanceof UsageError) {
      process.stderr.write(`mr: ${err.message}\n${also}`);
      return EXIT.usage;
    }
    if (err instanceof JobCancelledError) {
      process.stderr.write(`mr: cancelled; the output has no _SUCCESS\n${also}`);
      return EXIT.cancelled;
    }
    if (err instanceof TaskFailedError) {
      process.stderr.write(`mr: job failed: ${err.message}\n${also}`);
      if (process.env.FANOUT_DEBUG && err.cause instanceof Error)
        process.stderr.write(`${err.cause.stack}\n`);
      return EXIT.failed;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`mr: ${err instanceof FanoutError ? '' : 'internal error: '}${message}\n${also}`);
    if (process.env.FANOUT_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.failed;
  }
}

/** Later failures as one line: the first of them, and how many more there were. */
function alsoLine(notes: readonly string[]): string {
  if (notes.length === 0) return '';
  const more =
    notes.length > 1
      ? ` (and ${notes.length - 1} more failure${notes.length > 2 ? 's' : ''} cleaning up)`
      : '';
  return `mr: also: ${notes[0]}${more}\n`;
}

/** The installed package's version, read from its package.json (two folders up, from src/ or dist/). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? 'unknown';
}
