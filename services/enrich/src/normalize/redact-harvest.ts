import { parse as parseYaml } from 'yaml';
import { remember } from './redact.js';

/** Keys under which the credential kinds keep their values (Secret, ConfigMap, TokenReview/TokenRequest). */
const VALUE_KEYS: ReadonlySet<string> = new Set(['data', 'stringData', 'binaryData', 'token']);
/** Deeper than any Kubernetes object; bounds the walk on hostile input. */
const MAX_DEPTH = 64;

function parseText(text: string, yaml: boolean): unknown {
  const first = text.trimStart().charAt(0);
  try {
    if (first === '{' || first === '[') return JSON.parse(text);
    return yaml ? parseYaml(text) : undefined;
  } catch {
    return undefined;
  }
}

function visit(value: unknown, under: boolean, depth: number, into: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (under) remember(into, value);
    const parsed = parseText(value, false);
    if (parsed !== undefined) visit(parsed, under, depth + 1, into);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) visit(v, under, depth + 1, into);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as Record<string, unknown>;
  // A JSON patch op: its value lands at its path, so a path through a value key makes it one.
  const viaPath = typeof object.path === 'string' && object.path.split('/').some((segment) => VALUE_KEYS.has(segment));
  // Object.keys, not Object.entries: the same own keys without a [key, value] pair each (hot path).
  for (const key of Object.keys(object)) visit(object[key], under || VALUE_KEYS.has(key) || (key === 'value' && viaPath), depth + 1, into);
}

/**
 * Every value found under a credential key (`data`, `stringData`, `binaryData`, `token`) anywhere in
 * the original bodies and event annotations of a request to a sensitive resource — patch ops by
 * their path, JSON and YAML text parsed. A blunt rule of its own, independent of the redactor's
 * allow-list, so the final leak check also catches what the redactor failed to report. Must run
 * before the bodies are redacted in place.
 */
export function harvestCredentialValues(bodies: readonly unknown[], annotations: Readonly<Record<string, string>>, into: Set<string>): void {
  for (const body of bodies) {
    if (typeof body === 'string') visit(parseText(body, true), false, 0, into);
    else visit(body, false, 0, into);
  }
  for (const value of Object.values(annotations)) visit(value, false, 0, into);
}
