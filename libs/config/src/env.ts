import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { KauditError } from '@kaudit/errors';

/**
 * The one place in kaudit that reads `process.env`. Composition roots call it once and pass the
 * snapshot on; everything else receives values, so tests never touch the real environment.
 */
export function readEnv(): Readonly<Record<string, string | undefined>> {
  return Object.freeze({ ...process.env });
}

/** Reads a YAML (or JSON) config file into a plain object; a clear error when it is missing or malformed. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `Cannot read config file ${path}`, { cause });
  }
  try {
    return parse(text) ?? {};
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `Config file ${path} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
}

/** A comma-separated env value (`a,b, c`) or an array, as a list of trimmed non-empty strings. */
export function csvList(): z.ZodType<string[], unknown> {
  return z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : v),
    z.array(z.string().min(1)),
  ) as z.ZodType<string[], unknown>;
}

/** `true/false/1/0/yes/no` from env, or a real boolean from a file. */
export function booleanish(): z.ZodType<boolean, unknown> {
  return z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off', ''].includes(s)) return false;
    return v;
  }, z.boolean()) as z.ZodType<boolean, unknown>;
}
