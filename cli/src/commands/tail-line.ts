/**
 * One stored event as one readable line of `kaudit tail`: when, result, and enrich's summary (who did what
 * where) with the account and client; rows stored before the summary existed get a line composed from the columns.
 */
export function tailLine(r: Readonly<Record<string, unknown>>): string {
  const s = (k: string): string => (r[k] === undefined || r[k] === null ? '' : String(r[k]));
  if (s('summary')) {
    const stage = s('stage') && s('stage') !== 'ResponseComplete' ? ` (${s('stage')})` : '';
    return `${s('time')}  ${s('code')}  ${s('summary')}${stage}  [${[s('account'), s('client')].filter(Boolean).join(', ')}]`;
  }
  const who = s('who') || s('username') || s('account');
  const account = s('account') && s('account') !== who ? ` (${s('account')})` : '';
  const resource = s('subresource') ? `${s('resource')}/${s('subresource')}` : s('resource');
  const object = [s('namespace'), s('name')].filter(Boolean).join('/');
  const operation = s('operation') && s('operation') !== s('verb') ? ` [${s('operation')}]` : '';
  const stage = s('stage') && s('stage') !== 'ResponseComplete' ? ` (${s('stage')})` : '';
  return `${s('time')}  ${s('cluster')}  ${s('code')}  ${who}${account}  ${s('verb')} ${resource}${object ? ` ${object}` : ''}${operation}${stage}  ${s('client')}`.trimEnd();
}
