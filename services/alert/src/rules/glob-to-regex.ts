/**
 * `*` matches any run of characters (slashes included, as in Falco's `glob`: image and path values
 * are matched whole), `?` one character; everything else is literal.
 */
export function globToRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}
