import type { Parameter, Stack, StackEvent } from '@aws-sdk/client-cloudformation';

interface StackRecord {
  stack: Stack;
  events: StackEvent[];
  template: string;
  /** Statuses the next DescribeStacks calls move through, one per call. */
  pending: string[];
}

/** What the fake does with the next create, update or delete. */
export type FakeScript = { fail?: { resource: string; reason: string } };

const validationError = (message: string) => Object.assign(new Error(message), { name: 'ValidationError' });

/**
 * A small in-memory CloudFormation: stacks move through IN_PROGRESS (one poll) to a final status,
 * events come newest first in pages of 3, and outputs follow the parameters as the real template's do.
 */
export class FakeCloudFormation {
  readonly calls: { command: string; input: Record<string, unknown> }[] = [];
  readonly stacks = new Map<string, StackRecord>();
  script: FakeScript = {};
  private nextId = 1;

  /** Adds a settled stack, as if an earlier deploy had made it. */
  seed(name: string, status: string, parameters: Record<string, string>, template = '{}'): Stack {
    const stack: Stack = {
      StackName: name,
      StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/${this.nextId++}`,
      StackStatus: status as Stack['StackStatus'],
      CreationTime: new Date(0),
      Parameters: resolve(
        Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
        [],
      ),
    };
    stack.Outputs = outputsFor(stack.Parameters ?? []);
    const event = this.event(stack, name, 'AWS::CloudFormation::Stack', status);
    this.stacks.set(stack.StackId ?? name, { stack, events: [event], template, pending: [] });
    return stack;
  }

  /** The calls that change something, in order (tests log S3 uploads here too). */
  mutations(): string[] {
    return this.calls.map((c) => c.command).filter((c) => !c.startsWith('Describe'));
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const input = command.input;
    this.calls.push({ command: name, input });
    const stackName = String(input.StackName);
    const record = [...this.stacks.values()].find(
      (r) =>
        r.stack.StackId === stackName ||
        (r.stack.StackName === stackName && r.stack.StackStatus !== 'DELETE_COMPLETE'),
    );
    switch (name) {
      case 'DescribeStacks': {
        if (!record) throw validationError(`Stack with id ${stackName} does not exist`);
        const next = record.pending.shift();
        if (next) this.move(record, next);
        return { Stacks: [structuredClone(record.stack)] };
      }
      case 'DescribeStackEvents': {
        if (!record) throw validationError(`Stack [${stackName}] does not exist`);
        const all = [...record.events].reverse();
        const start = input.NextToken ? Number(input.NextToken) : 0;
        const page = all.slice(start, start + 3);
        return { StackEvents: page, NextToken: start + 3 < all.length ? String(start + 3) : undefined };
      }
      case 'CreateStack': {
        if (record)
          throw Object.assign(new Error(`Stack [${stackName}] already exists`), { name: 'AlreadyExists' });
        const stack = this.seed(stackName, 'CREATE_IN_PROGRESS', {}, String(input.TemplateBody));
        const created = this.stacks.get(stack.StackId ?? '') as StackRecord;
        // Like CloudFormation, report every template parameter, defaults included.
        const declared = (
          JSON.parse(String(input.TemplateBody)) as { Parameters?: Record<string, { Default?: unknown }> }
        ).Parameters;
        const given = input.Parameters as Parameter[];
        const defaults = Object.entries(declared ?? {})
          .filter(([key]) => !given.some((p) => p.ParameterKey === key))
          .map(([key, p]) => ({ ParameterKey: key, ParameterValue: String(p.Default ?? '') }));
        created.stack.Parameters = resolve([...given, ...defaults], []);
        created.pending = this.outcome(created, 'CREATE', 'ROLLBACK');
        return { StackId: stack.StackId };
      }
      case 'UpdateStack': {
        if (!record) throw validationError(`Stack [${stackName}] does not exist`);
        const params = resolve(input.Parameters as Parameter[], record.stack.Parameters ?? []);
        if (
          JSON.stringify(params) === JSON.stringify(record.stack.Parameters) &&
          input.TemplateBody === record.template
        )
          throw validationError('No updates are to be performed.');
        record.template = String(input.TemplateBody);
        record.stack.Parameters = params;
        this.move(record, 'UPDATE_IN_PROGRESS');
        record.pending = this.outcome(record, 'UPDATE', 'UPDATE_ROLLBACK');
        return { StackId: record.stack.StackId };
      }
      case 'DeleteStack': {
        if (!record) return {};
        this.move(record, 'DELETE_IN_PROGRESS');
        record.pending = this.outcome(record, 'DELETE', 'DELETE');
        return {};
      }
      default:
        throw new Error(`fake CloudFormation does not do ${name}`);
    }
  }

  /** The statuses an operation passes through; a scripted failure adds its resource events now. */
  private outcome(record: StackRecord, verb: string, rollback: string): string[] {
    const fail = this.script.fail;
    this.script = {};
    if (!fail) return [`${verb}_IN_PROGRESS`, `${verb}_COMPLETE`];
    const s = record.stack;
    record.events.push(
      this.event(s, fail.resource, 'AWS::Lambda::Function', `${verb}_FAILED`, fail.reason),
      this.event(s, 'Role', 'AWS::IAM::Role', `${verb}_FAILED`, 'Resource creation cancelled'),
    );
    return verb === 'DELETE'
      ? ['DELETE_IN_PROGRESS', 'DELETE_FAILED']
      : [`${rollback}_IN_PROGRESS`, `${rollback}_COMPLETE`];
  }

  private move(record: StackRecord, status: string): void {
    record.stack.StackStatus = status as Stack['StackStatus'];
    if (status === 'UPDATE_COMPLETE' || status === 'CREATE_COMPLETE')
      record.stack.Outputs = outputsFor(record.stack.Parameters ?? []);
    record.events.push(
      this.event(record.stack, record.stack.StackName ?? '', 'AWS::CloudFormation::Stack', status),
    );
  }

  private event(stack: Stack, logicalId: string, type: string, status: string, reason?: string): StackEvent {
    return {
      StackId: stack.StackId,
      StackName: stack.StackName,
      EventId: `event-${this.nextId++}`,
      LogicalResourceId: logicalId,
      ResourceType: type,
      ResourceStatus: status as StackEvent['ResourceStatus'],
      Timestamp: new Date(Date.UTC(2025, 0, 1, 12, 0, this.nextId)),
      ...(reason && { ResourceStatusReason: reason }),
    };
  }
}

/** Applies UsePreviousValue the way CloudFormation does. */
function resolve(given: Parameter[], previous: Parameter[]): Parameter[] {
  return given
    .map((p) => ({
      ParameterKey: p.ParameterKey,
      ParameterValue: p.UsePreviousValue
        ? previous.find((q) => q.ParameterKey === p.ParameterKey)?.ParameterValue
        : p.ParameterValue,
    }))
    .sort((a, b) => String(a.ParameterKey).localeCompare(String(b.ParameterKey)));
}

function outputsFor(parameters: Parameter[]): Stack['Outputs'] {
  const value = (key: string) => parameters.find((p) => p.ParameterKey === key)?.ParameterValue ?? '';
  const bucket = value('BucketName') || 'fanout-bucket-1a2b3c';
  const outputs = [
    ['BucketName', bucket],
    ['DlqUrl', 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-DeadLetterQueue-x'],
    ['DlqArn', 'arn:aws:sqs:eu-west-1:123456789012:fanout-DeadLetterQueue-x'],
    ['Region', 'eu-west-1'],
  ];
  if (value('CodeS3Key'))
    outputs.unshift(
      ['FunctionName', 'fanout-runtime'],
      ['FunctionArn', 'arn:aws:lambda:eu-west-1:123456789012:function:fanout-runtime'],
    );
  return outputs.map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));
}
