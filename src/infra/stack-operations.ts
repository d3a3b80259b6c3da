import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type Parameter,
  type Stack,
  type StackEvent,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { FanoutError } from '../errors.js';

/** The part of the CloudFormation client used here, so tests can pass a stub. */
export type CloudFormationLike = Pick<CloudFormationClient, 'send'>;

/** Where and how to run stack operations. */
export interface StackContext {
  cfn: CloudFormationLike;
  stackName: string;
  /** Called with each new stack event, oldest first, while an operation runs. */
  onEvent?: (event: StackEvent) => void;
  /** Pause between polls. @default 5000 */
  pollMs?: number;
}

/** How a create, update or delete ended. */
export interface StackOutcome {
  outcome: 'created' | 'updated' | 'unchanged' | 'deleted';
  stack: Stack;
}

/** A stack operation that ended in failure or rollback; the message carries the first causes. */
export class StackOperationError extends FanoutError {
  override name = 'StackOperationError';
}

/** Runs one AWS call and turns its failure into a one-line FanoutError naming the call. */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof FanoutError) throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    throw new FanoutError(`${what} failed: ${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`, {
      cause: err,
    });
  }
}

/** The stack by name or id, or undefined when it does not exist (or was deleted). */
export async function describeStack(cfn: CloudFormationLike, nameOrId: string): Promise<Stack | undefined> {
  try {
    const r = await cfn.send(new DescribeStacksCommand({ StackName: nameOrId }));
    const stack = r.Stacks?.[0];
    return stack?.StackStatus === 'DELETE_COMPLETE' ? undefined : stack;
  } catch (err) {
    // CloudFormation reports a missing stack as a ValidationError, not a 404.
    if (err instanceof Error && /does not exist/.test(err.message)) return undefined;
    return awsCall('CloudFormation DescribeStacks', () => Promise.reject(err));
  }
}

/** A stack's outputs as a plain map. */
export function stackOutputs(stack: Stack | undefined): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const o of stack?.Outputs ?? [])
    if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
  return outputs;
}

/**
 * Creates the stack or updates it to the template; waits, reporting events, until it settles.
 * An update with nothing to change is success (`unchanged`).
 * @throws {StackOperationError} when the operation fails or rolls back, with the first failure reasons.
 */
export async function applyStack(
  ctx: StackContext,
  existing: Stack | undefined,
  templateBody: string,
  parameters: Parameter[],
): Promise<StackOutcome> {
  const input = {
    StackName: ctx.stackName,
    TemplateBody: templateBody,
    Parameters: parameters,
    // The role has a generated name, so CAPABILITY_IAM is enough (no NAMED_IAM).
    Capabilities: ['CAPABILITY_IAM' as const],
  };
  if (!existing) {
    const r = await awsCall('CloudFormation CreateStack', () => ctx.cfn.send(new CreateStackCommand(input)));
    const stackId = r.StackId ?? ctx.stackName;
    return { outcome: 'created', stack: await waitForStack(ctx, stackId, undefined, 'create') };
  }
  const stackId = existing.StackId ?? ctx.stackName;
  const marker = await newestEventId(ctx.cfn, stackId);
  try {
    await ctx.cfn.send(new UpdateStackCommand(input));
  } catch (err) {
    if (err instanceof Error && /No updates are to be performed/.test(err.message)) {
      return { outcome: 'unchanged', stack: existing };
    }
    return awsCall('CloudFormation UpdateStack', () => Promise.reject(err));
  }
  return { outcome: 'updated', stack: await waitForStack(ctx, stackId, marker, 'update') };
}

/**
 * Deletes the stack and waits until it is gone.
 * @throws {StackOperationError} when the deletion fails, with the first failure reasons.
 */
export async function deleteStack(ctx: StackContext, existing: Stack): Promise<StackOutcome> {
  // After deletion only the stack id still finds the stack (and its events); the name does not.
  const stackId = existing.StackId ?? ctx.stackName;
  const marker = await newestEventId(ctx.cfn, stackId);
  await awsCall('CloudFormation DeleteStack', () =>
    ctx.cfn.send(new DeleteStackCommand({ StackName: stackId })),
  );
  return { outcome: 'deleted', stack: await waitForStack(ctx, stackId, marker, 'delete') };
}

const SUCCESS: Record<'create' | 'update' | 'delete', string> = {
  create: 'CREATE_COMPLETE',
  update: 'UPDATE_COMPLETE',
  delete: 'DELETE_COMPLETE',
};

async function waitForStack(
  ctx: StackContext,
  stackId: string,
  marker: string | undefined,
  verb: 'create' | 'update' | 'delete',
): Promise<Stack> {
  const seen = new Set<string>();
  const failures: StackEvent[] = [];
  for (;;) {
    // Status first, then events: the events fetched after a final status include its last ones.
    const r = await awsCall('CloudFormation DescribeStacks', () =>
      ctx.cfn.send(new DescribeStacksCommand({ StackName: stackId })),
    );
    const stack = r.Stacks?.[0];
    for (const event of await eventsSince(ctx.cfn, stackId, marker, seen)) {
      ctx.onEvent?.(event);
      if (event.ResourceStatus?.endsWith('FAILED') && event.ResourceStatusReason) failures.push(event);
    }
    const status = stack?.StackStatus ?? 'UNKNOWN';
    if (!status.endsWith('_IN_PROGRESS')) {
      if (stack && status === SUCCESS[verb]) return stack;
      throw new StackOperationError(
        `${verb} of stack ${ctx.stackName} failed (${status}): ${failureReasons(failures, stack)}`,
      );
    }
    await sleep(ctx.pollMs ?? 5000);
  }
}

/** The first few root causes; later "cancelled" events only echo them. */
function failureReasons(failures: StackEvent[], stack: Stack | undefined): string {
  const causes = failures.filter((e) => !/cancelled/i.test(e.ResourceStatusReason ?? ''));
  const picked = (causes.length > 0 ? causes : failures).slice(0, 3);
  if (picked.length === 0) return stack?.StackStatusReason ?? 'no reason reported';
  return picked.map((e) => `${e.LogicalResourceId}: ${e.ResourceStatusReason}`).join('; ');
}

async function newestEventId(cfn: CloudFormationLike, stackId: string): Promise<string | undefined> {
  const r = await awsCall('CloudFormation DescribeStackEvents', () =>
    cfn.send(new DescribeStackEventsCommand({ StackName: stackId })),
  );
  return r.StackEvents?.[0]?.EventId;
}

/** Events newer than the marker that were not reported yet, oldest first. Pages come newest first. */
async function eventsSince(
  cfn: CloudFormationLike,
  stackId: string,
  marker: string | undefined,
  seen: Set<string>,
): Promise<StackEvent[]> {
  const fresh: StackEvent[] = [];
  let token: string | undefined;
  pages: do {
    const r = await awsCall('CloudFormation DescribeStackEvents', () =>
      cfn.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: token })),
    );
    for (const event of r.StackEvents ?? []) {
      const id = event.EventId ?? '';
      if (id === marker || seen.has(id)) break pages;
      seen.add(id);
      fresh.push(event);
    }
    token = r.NextToken;
  } while (token);
  return fresh.reverse();
}
