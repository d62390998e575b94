import { applyJsonPatch, applyMergePatch, diffObjects, formatChange, patchedFields, type FieldChange } from './field-diff.js';

/** One stored request on an object, as `historyQuery` returns it (bodies as stored: JSON text or ''). */
export interface HistoryEvent {
  cluster: string;
  namespace: string;
  verb: string;
  subresource: string;
  code: number;
  request_object: string;
  response_object: string;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A body cut by the apiserver's or enrich's size limit is not JSON any more: treat it as unknown.
    return undefined;
  }
}

/** A full object (what a create/update/patch/get answers), not a Status, a list or DeleteOptions. */
function asObjectState(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.metadata !== 'object' || o.metadata === null) return undefined;
  if (o.kind === 'Status' || o.kind === 'DeleteOptions' || (typeof o.kind === 'string' && o.kind.endsWith('List'))) return undefined;
  return o;
}

/**
 * What each request changed, in the order given (oldest first), per object (cluster + namespace): the
 * object state is followed from each full body seen (a create's or a patch's response, a get's answer) and
 * a write is diffed against the state before it; a patch seen without a prior state lists the fields it
 * sets. Failed requests and subresources (status, exec…) change nothing here. At Metadata level there are
 * no bodies, so there is nothing to say: an empty list, never a guess.
 */
export function objectChanges(events: readonly HistoryEvent[]): FieldChange[][] {
  const state = new Map<string, Record<string, unknown> | undefined>();
  return events.map((e) => {
    const key = `${e.cluster}\u0000${e.namespace}`;
    const before = state.get(key);
    if (e.code >= 300 || (e.subresource !== '' && e.subresource !== 'scale')) return [];
    const req = parseBody(e.request_object);
    const resp = asObjectState(parseBody(e.response_object));
    switch (e.verb) {
      case 'create':
        state.set(key, resp ?? asObjectState(req));
        return [];
      case 'delete':
      case 'deletecollection':
        state.set(key, undefined);
        return [];
      case 'update':
      case 'patch': {
        if (e.subresource === 'scale') {
          // A Scale object, not the Deployment: its spec.replicas is the object's spec.replicas.
          const replicas = (req as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
          if (replicas === undefined) return [];
          const from = (before?.spec as { replicas?: unknown } | undefined)?.replicas;
          if (before) state.set(key, { ...before, spec: { ...(before.spec as object), replicas } });
          return from === replicas ? [] : [before ? { path: 'spec.replicas', from, to: replicas } : { path: 'spec.replicas', fromUnknown: true, to: replicas }];
        }
        let after: unknown = resp;
        if (after === undefined && before !== undefined && req !== undefined) {
          after = e.verb === 'update' ? asObjectState(req) : Array.isArray(req) ? applyJsonPatch(before, req) : applyMergePatch(before, req);
        }
        state.set(key, asObjectState(after));
        if (before !== undefined && after !== undefined) return diffObjects(before, after);
        return e.verb === 'patch' && req !== undefined ? patchedFields(req) : [];
      }
      default:
        if (resp) state.set(key, resp);
        return [];
    }
  });
}

/** The changes of each event as display lines. */
export function changeLines(events: readonly HistoryEvent[]): string[][] {
  return objectChanges(events).map((cs) => cs.map(formatChange));
}
