import { fieldAccessor, fieldText, valueText } from '../rules/field-path.js';

const TOKEN = /\{([A-Za-z][A-Za-z0-9._/-]*)\}/g;

/** `{actor.displayName} deleted {objectRef.resource}/{objectRef.name}` → text; missing fields render as `?`. */
export function renderTemplate(template: string, record: unknown): string {
  return template.replace(TOKEN, (_m, path: string) => {
    const text = fieldText(record, path);
    return text === '' ? '?' : text;
  });
}

/**
 * renderTemplate's result for any record, with the template parsed and its fields' accessors compiled once
 * (for a rule's output, rendered for every alert it raises; renderTemplate compiles nothing).
 */
export function compileTemplate(template: string): (record: unknown) => string {
  const parts: (string | ((record: unknown) => string))[] = [];
  let last = 0;
  for (const m of template.matchAll(TOKEN)) {
    parts.push(template.slice(last, m.index));
    const get = fieldAccessor(m[1] as string);
    parts.push((record) => {
      const text = valueText(get(record));
      return text === '' ? '?' : text;
    });
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  return (record) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(record);
    return out;
  };
}

/** The field paths a template refers to (for `rules lint`). */
export function templateFields(template: string): string[] {
  return [...template.matchAll(TOKEN)].map((m) => m[1] as string);
}

/** " — 1,000 times in 1 minute": the folded form of a dedup window's repeats. */
export function foldedSuffix(count: number, windowMs: number): string {
  if (count <= 1) return '';
  return ` — ${count.toLocaleString('en-US')} times in ${windowSpan(windowMs)}`;
}

/** " — and 999 more times in 10 minutes": a follow-up's repeats after the first notification. */
export function followUpSuffix(more: number, windowMs: number): string {
  return ` — and ${more.toLocaleString('en-US')} more time${more === 1 ? '' : 's'} in ${windowSpan(windowMs)}`;
}

function windowSpan(windowMs: number): string {
  return windowMs < 60_000 ? plural(Math.max(1, Math.round(windowMs / 1000)), 'second') : plural(Math.round(windowMs / 60_000), 'minute');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
