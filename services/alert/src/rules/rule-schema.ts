import { z } from 'zod';
import { SEVERITIES } from '@kaudit/audit-schema';

/**
 * The YAML format of a rule file (`rules/*.yaml`). Validated with zod; load-rules.ts maps every
 * issue back to a file:line position. Field names address the canonical AuditRecord one level deep
 * (`objectRef.resource`, `actor.displayName`, `response.code`, `security.hostPaths`).
 */

/** `5m`, `30s`, `1h`, `500ms` → milliseconds. */
export const durationSchema = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'a duration like 30s, 5m or 1h')
  .transform((text) => {
    const match = /^(\d+)(ms|s|m|h)$/.exec(text) as RegExpExecArray;
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
    return Number(match[1]) * unit;
  });

const fieldPath = z.string().regex(/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9][A-Za-z0-9./_-]*)?$/, 'a field path like verb or objectRef.resource');

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A value list item: a literal, or `{ list: name }` expanded from the file's named lists. */
const listItem = z.union([scalar, z.strictObject({ list: z.string().min(1) })]);
const valueList = z.array(listItem).min(1);

export const fieldConditionSchema = z
  .strictObject({
    field: fieldPath,
    equals: scalar.nullable().optional(),
    in: valueList.optional(),
    prefix: z.union([z.string(), valueList]).optional(),
    contains: z.union([scalar, valueList]).optional(),
    glob: z.union([z.string(), valueList]).optional(),
    regex: z.string().optional(),
    /** IP networks (10.0.0.0/8, fd00::/8, or a bare address): the value is an address inside one. */
    cidr: z.union([z.string(), valueList]).optional(),
    exists: z.boolean().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((c) => Object.keys(c).length > 1, { message: 'a field condition needs an operator (equals, in, prefix, contains, glob, regex, cidr, exists, gt, gte, lt, lte)' })
  .refine((c) => c.regex === undefined || isValidRegex(c.regex), { message: 'regex does not compile', path: ['regex'] });

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export type FieldConditionSpec = z.infer<typeof fieldConditionSchema>;
export type ConditionSpec =
  | FieldConditionSpec
  | { all: ConditionSpec[] }
  | { any: ConditionSpec[] }
  | { not: ConditionSpec }
  | { macro: string }
  | { roleRefPowerful: true };

export const conditionSchema: z.ZodType<ConditionSpec> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
    z.strictObject({ macro: z.string().min(1) }),
    /**
     * A RoleBinding/ClusterRoleBinding whose roleRef is a Role/ClusterRole known to grant `*` verbs
     * or resources, escalate, bind or impersonate (learnt from that role's own writes; see role-fact.ts).
     */
    z.strictObject({ roleRefPowerful: z.literal(true) }),
    fieldConditionSchema,
  ]),
);

/** An exception: the event is exempt when every listed field has one of the listed values. */
const exceptionSchema = z.strictObject({
  name: z.string().min(1),
  fields: z.record(fieldPath, valueList),
});

const thresholdSchema = z.strictObject({
  /** Fire when this many matching events (or distinct values of `distinct`) fall in the window. */
  count: z.number().int().min(1),
  window: durationSchema,
  groupBy: z.array(fieldPath).default(['cluster', 'actor.id']),
  distinct: fieldPath.optional(),
});

const sequenceSchema = z.strictObject({
  /** Every step must match in order, by the same `by` key, within `window` of the first. */
  steps: z.array(z.strictObject({ name: z.string().min(1), match: conditionSchema })).min(2),
  window: durationSchema,
  by: z.array(fieldPath).default(['cluster', 'actor.id']),
});

const dedupSchema = z.strictObject({
  /** Repeats for the same key within the window are folded into one alert "N times in M minutes". */
  window: durationSchema,
  by: z.array(fieldPath).optional(),
});

/** A test event: a partial canonical record merged over a neutral sample; `{i}` in strings is the repeat index. */
const testEventSchema = z.strictObject({
  record: z.record(z.string(), z.unknown()).default({}),
  repeat: z.number().int().min(1).max(10_000).default(1),
  /** Seconds after the test's start of the first repeat; defaults to right after the previous event. */
  at: z.number().min(0).optional(),
  /** Seconds between repeats. */
  every: z.number().min(0).default(1),
});

const ruleTestSchema = z.strictObject({
  name: z.string().min(1),
  /** How many alerts the events must produce (0 for a negative test). */
  expect: z.number().int().min(0),
  /** When set, the (first) alert's summary must contain this text. */
  summaryContains: z.string().optional(),
  /** When set, the (first) alert's count must equal this. */
  count: z.number().int().min(1).optional(),
  events: z.array(testEventSchema).min(1),
});

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    name: z.string().min(1),
    description: z.string().default(''),
    severity: z.enum(SEVERITIES),
    tags: z.array(z.string()).default([]),
    enabled: z.boolean().default(true),
    /** Which events the rule looks at; for a sequence, a common filter before the steps (default: every event). */
    match: conditionSchema.optional(),
    exceptions: z.array(exceptionSchema).default([]),
    threshold: thresholdSchema.optional(),
    sequence: sequenceSchema.optional(),
    output: z.string().min(1),
    dedup: dedupSchema.optional(),
    tests: z.array(ruleTestSchema).default([]),
  })
  .refine((r) => !(r.threshold && r.sequence), { message: 'a rule has either threshold or sequence, not both' })
  .refine((r) => r.match !== undefined || r.sequence !== undefined, { message: 'a rule needs match (or a sequence of steps)', path: ['match'] });

export type RuleSpec = z.infer<typeof ruleSchema>;
export type RuleTestSpec = z.infer<typeof ruleTestSchema>;
export type TestEventSpec = z.infer<typeof testEventSchema>;

export const ruleFileSchema = z.strictObject({
  lists: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case'), z.array(scalar)).default({}),
  macros: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case'), conditionSchema).default({}),
  rules: z.array(ruleSchema).default([]),
});

export type RuleFileSpec = z.infer<typeof ruleFileSchema>;
