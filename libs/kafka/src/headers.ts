/** A header as text, or undefined when absent. */
export function headerString(headers: Record<string, Buffer | undefined>, name: string): string | undefined {
  const value = headers[name];
  return value === undefined ? undefined : value.toString('utf8');
}
