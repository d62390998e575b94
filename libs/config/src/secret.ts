import { inspect } from 'node:util';
import { z } from 'zod';

/**
 * A configured secret (token, password, webhook URL). Printing, logging or serialising it shows
 * `[redacted]`; only `reveal()` gives the value, so a leak needs an explicit call at the use site.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** zod schema for a non-empty secret string, parsed into a `Secret`. */
export function secret(): z.ZodType<Secret, string> {
  return z
    .string()
    .min(1, 'must not be empty')
    .transform((value) => new Secret(value));
}
