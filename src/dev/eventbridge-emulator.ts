import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerJson } from './json-reply.js';
import type { S3ObjectCreated } from './s3-emulator.js';

/** The account every emulator of the dev stack puts in its ARNs. */
const ACCOUNT = '000000000000';

/** How to start the EventBridge emulator. */
export interface EventBridgeEmulatorOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Region in rule ARNs and in the `region` of events it builds. @default 'us-east-1' */
  region?: string;
  /**
   * Delivers one event to one target: for a Lambda function, `lambdaInvoker` of
   * scheduler-emulator.ts. A rejection is recorded in `deliveries()`, never thrown.
   */
  invoke(targetArn: string, input: string): Promise<void>;
}

/** An event as EventBridge hands it to targets. */
export interface EventBridgeEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601 without milliseconds: `2026-01-02T03:04:05Z`. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  [field: string]: unknown;
}

/** One time a rule's target was given an event, whether it accepted it or not. */
export interface Delivery {
  rule: string;
  targetId: string;
  targetArn: string;
  /** What was passed to `invoke` (or would have been, when `error` says the input could not be made). */
  input: string;
  /** Why the delivery failed: the message `invoke` rejected with, or why the input could not be made. */
  error?: string;
}

/** A running in-memory EventBridge API (the default event bus) on loopback. */
export interface EventBridgeEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /**
   * Puts an event on the default bus: every target of every ENABLED rule whose pattern matches it
   * gets it (through `invoke`), all at once. Settles when every one of those deliveries has; never
   * rejects for a target's failure.
   */
  deliver(event: EventBridgeEvent): Promise<void>;
  /** Every delivery so far, each added once its invocation has settled. */
  deliveries(): readonly Delivery[];
  /** Closes the server and drops its rules; safe to call twice. */
  stop(): Promise<void>;
}

/** A target as PutTargets took it; members the emulator does not use are kept and listed back. */
interface Target {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  [member: string]: unknown;
}

interface Rule {
  name: string;
  arn: string;
  eventPattern: string;
  matches: Matcher;
  state: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
  description: string | undefined;
  roleArn: string | undefined;
  targets: Map<string, Target>;
}

/** An error the API answers with, named as the SDK's exception classes are. */
class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const validation = (message: string) => new ApiError('ValidationException', message);
const badPattern = (reason: string) =>
  new ApiError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);

const NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
/** How many targets a rule may have: AWS's default quota. */
const MAX_TARGETS = 5;

/**
 * Starts an in-memory EventBridge on 127.0.0.1 that `@aws-sdk/client-eventbridge` can talk to, for
 * the default event bus only: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule,
 * DisableRule, PutTargets, ListTargetsByRule, RemoveTargets and TestEventPattern. It accepts any
 * credentials. Rules match by event pattern (scheduled rules are refused: use EventBridge
 * Scheduler); events come in through `deliver`, not PutEvents. Unlike AWS it tries each delivery
 * once, with no retry policy or dead-letter queue.
 */
export async function startEventBridgeEmulator(o: EventBridgeEmulatorOptions): Promise<EventBridgeEmulator> {
  const region = o.region ?? 'us-east-1';
  const rules = new Map<string, Rule>();
  const log: Delivery[] = [];
  let stopped: Promise<void> | undefined;

  const found = (name: unknown): Rule => {
    const rule = typeof name === 'string' ? rules.get(name) : undefined;
    if (rule === undefined) {
      throw new ApiError(
        'ResourceNotFoundException',
        `Rule ${String(name)} does not exist on EventBus default.`,
      );
    }
    return rule;
  };

  const checkBus = (bus: unknown): void => {
    if (bus === undefined || bus === null || bus === 'default') return;
    if (bus === `arn:aws:events:${region}:${ACCOUNT}:event-bus/default`) return;
    throw new ApiError('ResourceNotFoundException', `Event bus ${String(bus)} does not exist.`);
  };

  const operations: Record<string, (b: Record<string, unknown>) => unknown> = {
    PutRule: (b) => {
      checkBus(b.EventBusName);
      const name = ruleName(b.Name, 'name');
      if (b.ScheduleExpression !== undefined && b.ScheduleExpression !== null) {
        throw validation('ScheduleExpression is not supported by this emulator: use EventBridge Scheduler.');
      }
      if (typeof b.EventPattern !== 'string') {
        throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
      }
      if (b.EventPattern.length > 4096) throw validation('EventPattern is longer than 4096 characters.');
      const matches = compilePattern(b.EventPattern);
      const state = oneOf(
        b.State,
        'state',
        ['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'] as const,
        'ENABLED',
      );
      const description = optionalString(b.Description, 'description', 512);
      const roleArn = optionalString(b.RoleArn, 'roleArn', 1600);
      const arn = `arn:aws:events:${region}:${ACCOUNT}:rule/${name}`;
      // As on AWS, PutRule replaces the rule but keeps its targets.
      const targets = rules.get(name)?.targets ?? new Map<string, Target>();
      rules.set(name, {
        name,
        arn,
        eventPattern: b.EventPattern,
        matches,
        state,
        description,
        roleArn,
        targets,
      });
      return { RuleArn: arn };
    },
    DescribeRule: (b) => {
      checkBus(b.EventBusName);
      return { ...ruleOutput(found(b.Name)), CreatedBy: ACCOUNT };
    },
    ListRules: (b) => {
      checkBus(b.EventBusName);
      const prefix = optionalString(b.NamePrefix, 'namePrefix', 64) ?? '';
      const { page, next } = paginate(
        [...rules.values()].filter((r) => r.name.startsWith(prefix)),
        b.Limit,
        b.NextToken,
      );
      return { Rules: page.map(ruleOutput), ...(next === undefined ? {} : { NextToken: next }) };
    },
    DeleteRule: (b) => {
      checkBus(b.EventBusName);
      const name = ruleName(b.Name, 'name');
      const rule = rules.get(name);
      // AWS answers success for a rule that does not exist.
      if (rule === undefined) return {};
      if (rule.targets.size > 0) throw validation("Rule can't be deleted since it has targets.");
      rules.delete(name);
      return {};
    },
    EnableRule: (b) => {
      checkBus(b.EventBusName);
      found(b.Name).state = 'ENABLED';
      return {};
    },
    DisableRule: (b) => {
      checkBus(b.EventBusName);
      found(b.Name).state = 'DISABLED';
      return {};
    },
    PutTargets: (b) => {
      checkBus(b.EventBusName);
      const rule = found(b.Rule);
      if (!Array.isArray(b.Targets) || b.Targets.length < 1 || b.Targets.length > 10) {
        throw validation('Targets must hold 1 to 10 targets.');
      }
      const given = b.Targets.map(readTarget);
      const ids = new Set(given.map((t) => t.Id));
      if (ids.size !== given.length) throw validation('Targets must not repeat an Id.');
      const after = new Set([...rule.targets.keys(), ...ids]);
      if (after.size > MAX_TARGETS) {
        throw new ApiError(
          'LimitExceededException',
          'The requested resource exceeds the maximum number allowed.',
        );
      }
      for (const t of given) rule.targets.set(t.Id, t);
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    ListTargetsByRule: (b) => {
      checkBus(b.EventBusName);
      const rule = found(b.Rule);
      const { page, next } = paginate(
        [...rule.targets.values()].map((t) => ({ name: t.Id, t })),
        b.Limit,
        b.NextToken,
      );
      return { Targets: page.map((p) => p.t), ...(next === undefined ? {} : { NextToken: next }) };
    },
    RemoveTargets: (b) => {
      checkBus(b.EventBusName);
      const rule = found(b.Rule);
      if (!Array.isArray(b.Ids) || b.Ids.length < 1 || b.Ids.length > 100) {
        throw validation('Ids must hold 1 to 100 target ids.');
      }
      for (const id of b.Ids) rule.targets.delete(String(id));
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    TestEventPattern: (b) => {
      if (typeof b.EventPattern !== 'string') throw validation('EventPattern is required.');
      if (typeof b.Event !== 'string') throw validation('Event is required.');
      const matches = compilePattern(b.EventPattern);
      let event: unknown;
      try {
        event = JSON.parse(b.Event);
      } catch {
        throw validation('Parameter Event is not valid.');
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw validation('Parameter Event is not valid.');
      }
      return { Result: matches(event) };
    },
  };

  const deliverTo = async (rule: Rule, target: Target, event: EventBridgeEvent): Promise<void> => {
    const delivery: Delivery = { rule: rule.name, targetId: target.Id, targetArn: target.Arn, input: '' };
    try {
      delivery.input = targetInput(target, event, rule);
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
      log.push(delivery);
      return;
    }
    try {
      await o.invoke(target.Arn, delivery.input);
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
    }
    log.push(delivery);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('AWSEvents.')
          ? operations[target.slice('AWSEvents.'.length)]
          : undefined;
        if (req.method !== 'POST' || operation === undefined) {
          throw new ApiError(
            'UnknownOperationException',
            `no operation ${target || 'named'} at ${req.method} /`,
          );
        }
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = {};
        try {
          if (text.trim() !== '') body = JSON.parse(text);
        } catch {
          throw new ApiError('SerializationException', 'the request body is not JSON');
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new ApiError('SerializationException', 'the request body must be a JSON object');
        }
        answerJson(res, 200, operation(body as Record<string, unknown>), {
          contentType: 'application/x-amz-json-1.1',
        });
      } catch (err) {
        if (err instanceof ApiError)
          answerJson(
            res,
            400,
            { __type: err.type, message: err.message },
            { contentType: 'application/x-amz-json-1.1' },
          );
        else
          answerJson(
            res,
            500,
            { __type: 'InternalException', message: String(err) },
            { contentType: 'application/x-amz-json-1.1' },
          );
      }
    });
  });
  await new Promise<void>((res, rej) =>
    server.once('error', rej).listen(o.port ?? 0, '127.0.0.1', () => res()),
  );

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliver: async (event) => {
      if (stopped !== undefined) return;
      // Patterns and paths see the event as JSON, as they would on AWS.
      const json = JSON.parse(JSON.stringify(event)) as EventBridgeEvent;
      const work: Promise<void>[] = [];
      for (const rule of rules.values()) {
        if (rule.state === 'DISABLED' || !rule.matches(json)) continue;
        for (const target of rule.targets.values()) work.push(deliverTo(rule, target, json));
      }
      await Promise.all(work);
    },
    deliveries: () => log,
    stop: () => {
      stopped ??= new Promise<void>((res) => {
        rules.clear();
        server.closeAllConnections();
        server.close(() => res());
      });
      return stopped;
    },
  };
}

/**
 * The event S3 puts on the default bus for an object created in a bucket with EventBridge enabled
 * ("detail-type": "Object Created"), as documented in the S3 user guide. No `version-id`: the S3
 * emulator has no versioning.
 */
export function s3ObjectCreatedEvent(e: S3ObjectCreated, region = 'us-east-1'): EventBridgeEvent {
  const at = new Date(e.time);
  const time = `${(Number.isNaN(at.getTime()) ? new Date() : at).toISOString().slice(0, 19)}Z`;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: ACCOUNT,
    time,
    region,
    resources: [`arn:aws:s3:::${e.bucket}`],
    detail: {
      version: '0',
      bucket: { name: e.bucket },
      object: {
        key: e.key,
        size: e.size,
        ...(e.etag === undefined ? {} : { etag: e.etag }),
        sequencer: e.sequencer,
      },
      'request-id': requestId(),
      requester: ACCOUNT,
      'source-ip-address': '127.0.0.1',
      reason: e.reason,
    },
  };
}

/** S3's request ids: 16 characters of upper-case letters and digits. */
function requestId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
}

// ---------------------------------------------------------------------------------------------
// Event patterns

/** Whether an event (as JSON) matches a compiled pattern. */
type Matcher = (event: unknown) => boolean;
/** Whether one leaf value (a string, number, boolean or null) passes a filter. */
type LeafTest = (value: unknown) => boolean;
/** A filter of a leaf's list: `exists` looks at the field, the rest at its values. */
type Filter = { exists: boolean } | { test: LeafTest };

/**
 * Compiles an EventBridge event pattern: nested objects whose leaves are lists of exact values
 * (strings, numbers, booleans, null) or filters (prefix, suffix, equals-ignore-case, wildcard,
 * anything-but, numeric, exists), with `$or` at any level. A list matches when any of its entries
 * does; a field holding an array matches when any element does.
 * @throws {ApiError} InvalidEventPatternException when the pattern is malformed.
 */
function compilePattern(text: string): Matcher {
  let pattern: unknown;
  try {
    pattern = JSON.parse(text);
  } catch {
    throw badPattern('the pattern is not JSON.');
  }
  return compileObject(pattern, '');
}

function compileObject(pattern: unknown, at: string): Matcher {
  if (!isObject(pattern)) throw badPattern(`${at || 'the pattern'} must be a JSON object.`);
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw badPattern(`Empty objects are not allowed (${at || 'the pattern'}).`);
  const parts: Matcher[] = entries.map(([key, value]) => {
    const here = at === '' ? key : `${at}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2)
        throw badPattern(`${here} must be a list of 2 or more patterns.`);
      const alternatives = value.map((v, i) => compileObject(v, `${here}[${i}]`));
      return (v) => alternatives.some((m) => m(v));
    }
    if (Array.isArray(value)) {
      const field = compileList(value, here);
      return (v) => field(leaves(isObject(v) ? v[key] : undefined));
    }
    if (isObject(value)) {
      const nested = compileObject(value, here);
      return (v) => {
        const inner = isObject(v) ? v[key] : undefined;
        // An array of objects matches when one of its elements matches the whole nested pattern.
        return Array.isArray(inner)
          ? inner.some((e) => nested(e))
          : nested(isObject(inner) ? inner : undefined);
      };
    }
    throw badPattern(`Match value must be String, number, true, false, or null (at ${here}: use a list).`);
  });
  return (v) => parts.every((m) => m(v));
}

/** The leaf values at a field: none when absent or an object, every leaf element of an array. */
function leaves(value: unknown): unknown[] {
  if (value === undefined || isObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap(leaves);
  return [value];
}

function compileList(list: unknown[], at: string): (values: unknown[]) => boolean {
  const filters = list.map((entry) => compileFilter(entry, at));
  return (values) =>
    filters.some((f) => ('exists' in f ? f.exists === values.length > 0 : values.some((v) => f.test(v))));
}

function compileFilter(entry: unknown, at: string): Filter {
  if (entry === null || typeof entry === 'string' || typeof entry === 'boolean') {
    return { test: (v) => v === entry };
  }
  if (typeof entry === 'number') return { test: (v) => typeof v === 'number' && v === entry };
  if (!isObject(entry)) throw badPattern(`${at} holds a value that is neither a literal nor a filter.`);
  const keys = Object.keys(entry);
  const [op] = keys;
  if (keys.length !== 1 || op === undefined) throw badPattern(`${at}: a filter object has exactly one key.`);
  const arg = entry[op];
  switch (op) {
    case 'exists':
      if (typeof arg !== 'boolean') throw badPattern(`${at}: exists takes true or false.`);
      return { exists: arg };
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard':
      return { test: stringFilter(op, arg, at) };
    case 'numeric':
      return { test: numericFilter(arg, at) };
    case 'anything-but':
      return { test: anythingBut(arg, at) };
    case 'cidr':
      throw badPattern(`${at}: cidr filters are not supported by this emulator.`);
    default:
      throw badPattern(`Unrecognized match type ${op} (at ${at}).`);
  }
}

/** prefix / suffix (each optionally `{ "equals-ignore-case": s }`), equals-ignore-case, wildcard. */
function stringFilter(op: string, arg: unknown, at: string): LeafTest {
  if (op === 'wildcard') {
    if (typeof arg !== 'string') throw badPattern(`${at}: wildcard takes a string.`);
    const re = wildcardRegExp(arg, at);
    return (v) => typeof v === 'string' && re.test(v);
  }
  let value = arg;
  let ignoreCase = op === 'equals-ignore-case';
  if (op !== 'equals-ignore-case' && isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      throw badPattern(`${at}: ${op} takes a string or { "equals-ignore-case": string }.`);
    }
    value = arg['equals-ignore-case'];
    ignoreCase = true;
  }
  if (typeof value !== 'string') throw badPattern(`${at}: ${op} takes a string.`);
  const want = ignoreCase ? value.toLowerCase() : value;
  return (v) => {
    if (typeof v !== 'string') return false;
    const s = ignoreCase ? v.toLowerCase() : v;
    if (op === 'prefix') return s.startsWith(want);
    if (op === 'suffix') return s.endsWith(want);
    return s === want;
  };
}

/** `*` matches any run of characters (none included); `\*` is a star and `\\` a backslash. */
function wildcardRegExp(pattern: string, at: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw badPattern(`${at}: wildcard has an invalid escape at ${i}.`);
      source += `\\${next}`;
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*')
        throw badPattern(`${at}: wildcard has consecutive wildcard characters at ${i}.`);
      source += '[\\s\\S]*';
    } else {
      source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

/** `[">", 0, "<=", 5]`: one or two comparisons, all of which must hold. */
function numericFilter(arg: unknown, at: string): LeafTest {
  const ops: Record<string, (a: number, b: number) => boolean> = {
    '=': (a, b) => a === b,
    '<': (a, b) => a < b,
    '<=': (a, b) => a <= b,
    '>': (a, b) => a > b,
    '>=': (a, b) => a >= b,
  };
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    throw badPattern(`${at}: numeric takes [op, number] or [op, number, op, number].`);
  }
  const checks: [(a: number, b: number) => boolean, number][] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const fn = ops[String(arg[i])];
    const n = arg[i + 1];
    if (fn === undefined || typeof n !== 'number' || !Number.isFinite(n)) {
      throw badPattern(`${at}: numeric takes comparisons (=, <, <=, >, >=) each followed by a number.`);
    }
    checks.push([fn, n]);
  }
  return (v) => typeof v === 'number' && checks.every(([fn, n]) => fn(v, n));
}

/** anything-but: a value, a list of values, or one of prefix / suffix / wildcard / equals-ignore-case. */
function anythingBut(arg: unknown, at: string): LeafTest {
  const literal = (x: unknown): LeafTest => {
    if (typeof x === 'string') return (v) => v === x;
    if (typeof x === 'number') return (v) => typeof v === 'number' && v === x;
    throw badPattern(`${at}: anything-but takes strings or numbers.`);
  };
  let excluded: LeafTest[];
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw badPattern(`${at}: anything-but takes a non-empty list.`);
    excluded = arg.map(literal);
  } else if (isObject(arg)) {
    const keys = Object.keys(arg);
    const [op] = keys;
    if (
      keys.length !== 1 ||
      op === undefined ||
      !['prefix', 'suffix', 'wildcard', 'equals-ignore-case'].includes(op)
    ) {
      throw badPattern(`${at}: anything-but takes prefix, suffix, wildcard or equals-ignore-case.`);
    }
    const inner = arg[op];
    const values =
      Array.isArray(inner) && (op === 'wildcard' || op === 'equals-ignore-case') ? inner : [inner];
    excluded = values.map((x) => stringFilter(op, x, at));
  } else {
    excluded = [literal(arg)];
  }
  return (v) => !excluded.some((t) => t(v));
}

// ---------------------------------------------------------------------------------------------
// Target input

/**
 * What a target is given: the whole event, its constant Input, the part InputPath selects, or
 * its InputTransformer's template filled in.
 * @throws {Error} when InputPath selects nothing in the event.
 */
function targetInput(target: Target, event: EventBridgeEvent, rule: Rule): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) {
    const got = readPath(event, target.InputPath);
    if (!got.found) throw new Error(`InputPath ${target.InputPath} selects nothing in the event`);
    return JSON.stringify(got.value);
  }
  if (target.InputTransformer !== undefined) return transform(target.InputTransformer, event, rule);
  return JSON.stringify(event);
}

/**
 * Fills in an InputTemplate. Outside a JSON string a placeholder becomes its value's JSON (a string
 * gets quotes); inside one, the value's text escaped for a JSON string (an object or array loses its
 * quotes first, as on AWS). A variable whose path selects nothing becomes `null` outside a string
 * and nothing inside one. A placeholder that names no variable is left as it is.
 */
function transform(t: NonNullable<Target['InputTransformer']>, event: EventBridgeEvent, rule: Rule): string {
  const { detail: _detail, ...withoutDetail } = event;
  const values = new Map<string, unknown>([
    ['aws.events.rule-arn', rule.arn],
    ['aws.events.rule-name', rule.name],
    ['aws.events.event.ingestion-time', `${new Date().toISOString().slice(0, 19)}Z`],
    ['aws.events.event', withoutDetail],
    ['aws.events.event.json', event],
  ]);
  const missing = new Set<string>();
  for (const [name, path] of Object.entries(t.InputPathsMap ?? {})) {
    const got = readPath(event, path);
    if (got.found) values.set(name, got.value);
    else missing.add(name);
  }
  const template = t.InputTemplate;
  const placeholder = /<([A-Za-z0-9_.-]+)>/y;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; ) {
    const c = template[i] as string;
    if (inString && c === '\\') {
      out += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') {
      inString = !inString;
      out += c;
      i++;
      continue;
    }
    placeholder.lastIndex = i;
    const m = c === '<' ? placeholder.exec(template) : null;
    const name = m?.[1];
    if (m === null || name === undefined || (!values.has(name) && !missing.has(name))) {
      out += c;
      i++;
      continue;
    }
    out += substitute(values.get(name), missing.has(name), inString);
    i += m[0].length;
  }
  return out;
}

function substitute(value: unknown, missing: boolean, inString: boolean): string {
  if (!inString) return missing ? 'null' : JSON.stringify(value);
  if (missing) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value).replaceAll('"', '');
  return JSON.stringify(text).slice(1, -1);
}

const PATH = /^\$((\.[^.[\]]+)|(\[\d+\]))*$/;

/** Reads a `$.a.b` / `$.a[0]` path of the event. */
function readPath(event: unknown, path: string): { found: true; value: unknown } | { found: false } {
  let value: unknown = event;
  for (const [, field, index] of path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (field !== undefined) {
      if (!isObject(value) || !Object.hasOwn(value, field)) return { found: false };
      value = value[field];
    } else {
      if (!Array.isArray(value) || Number(index) >= value.length) return { found: false };
      value = value[Number(index)];
    }
  }
  return { found: true, value };
}

function readTarget(t: unknown): Target {
  if (!isObject(t)) throw validation('Each target must be an object.');
  const id = t.Id;
  if (typeof id !== 'string' || !NAME.test(id)) {
    throw validation(`Target Id ${JSON.stringify(id)} must match [.\\-_A-Za-z0-9]{1,64}.`);
  }
  if (typeof t.Arn !== 'string' || t.Arn.length < 1 || t.Arn.length > 1600 || !t.Arn.startsWith('arn:')) {
    throw validation(`Target ${id}: Arn must be an ARN.`);
  }
  const given = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined && t[k] !== null);
  if (given.length > 1) {
    throw validation(`Target ${id}: only one of Input, InputPath or InputTransformer may be given.`);
  }
  const target: Target = { ...(t as Record<string, unknown>), Id: id, Arn: t.Arn };
  for (const k of ['Input', 'InputPath', 'InputTransformer']) if (t[k] === null) delete target[k];
  if (t.Input !== undefined && t.Input !== null) {
    if (typeof t.Input !== 'string') throw validation(`Target ${id}: Input must be a string.`);
    try {
      JSON.parse(t.Input);
    } catch {
      throw validation(`Target ${id}: Input is not valid JSON.`);
    }
  }
  if (t.InputPath !== undefined && t.InputPath !== null) {
    if (typeof t.InputPath !== 'string' || !PATH.test(t.InputPath)) {
      throw validation(`Target ${id}: InputPath must be a path such as $.detail.object.`);
    }
  }
  const x = t.InputTransformer;
  if (x !== undefined && x !== null) {
    if (!isObject(x) || typeof x.InputTemplate !== 'string' || x.InputTemplate.length < 1) {
      throw validation(`Target ${id}: InputTransformer needs an InputTemplate.`);
    }
    const paths = x.InputPathsMap ?? {};
    if (!isObject(paths) || Object.keys(paths).length > 100) {
      throw validation(`Target ${id}: InputPathsMap must map up to 100 names to paths.`);
    }
    for (const [name, path] of Object.entries(paths)) {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) {
        throw validation(
          `Target ${id}: InputPathsMap name ${JSON.stringify(name)} must match [A-Za-z0-9_-]+.`,
        );
      }
      if (typeof path !== 'string' || !PATH.test(path)) {
        throw validation(
          `Target ${id}: InputPathsMap value for ${name} must be a path such as $.detail.object.key.`,
        );
      }
    }
  }
  return target;
}

// ---------------------------------------------------------------------------------------------
// API plumbing

function ruleOutput(r: Rule): Record<string, unknown> {
  return {
    Name: r.name,
    Arn: r.arn,
    EventPattern: r.eventPattern,
    State: r.state,
    ...(r.description === undefined ? {} : { Description: r.description }),
    ...(r.roleArn === undefined ? {} : { RoleArn: r.roleArn }),
    EventBusName: 'default',
  };
}

/** Sorts by name and pages with an opaque token naming the last one given. */
function paginate<T extends { name: string }>(
  items: T[],
  limit: unknown,
  token: unknown,
): { page: T[]; next: string | undefined } {
  const max = limit === undefined || limit === null ? 100 : limit;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) {
    throw validation('Limit must be an integer from 1 to 100.');
  }
  let after: string | undefined;
  if (token !== undefined && token !== null) {
    try {
      after = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as string;
    } catch {
      after = undefined;
    }
    if (typeof after !== 'string') throw validation('NextToken is not one this API gave.');
  }
  const sorted = items
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .filter((i) => after === undefined || i.name > after);
  const page = sorted.slice(0, max);
  const last = page.at(-1);
  return {
    page,
    next:
      sorted.length > max && last !== undefined
        ? Buffer.from(JSON.stringify(last.name)).toString('base64url')
        : undefined,
  };
}

function ruleName(value: unknown, member: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw validation(
      `1 validation error detected: Value ${JSON.stringify(value)} at '${member}' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length 1-64',
    );
  }
  return value;
}

function optionalString(value: unknown, member: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) {
    throw validation(`${member} must be a string of at most ${max} characters.`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, member: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw validation(`${member} must be one of ${allowed.join(', ')}.`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
