import { fieldText } from '../rules/field-path.js';

const TOKEN = /\{([A-Za-z][A-Za-z0-9._/-]*)\}/g;

/** `{actor.displayName} deleted {objectRef.resource}/{objectRef.name}` → text; missing fields render as `?`. */
export function renderTemplate(template: string, record: unknown): string {
  return template.replace(TOKEN, (_m, path: string) => {
    const text = fieldText(record, path);
    return text === '' ? '?' : text;
  });
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
