import type { OperationClass } from '@kaudit/audit-schema';
import { asArray, asObject, dig } from './json-object.js';

export interface OperationInput {
  verb: string;
  apiGroup: string | null;
  resource: string | null;
  subresource: string | null;
  /** The request body (unredacted is fine: only structure and non-secret fields are read). */
  requestObject: unknown;
  /** Parsed client name (`kubectl`, …): an eviction sent by kubectl is a drain. */
  clientName: string | null;
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const WRITE_VERBS: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** Value of spec.unschedulable a Node write sets: true/false/null (cleared), or undefined when untouched. */
function unschedulable(body: unknown): boolean | null | undefined {
  if (Array.isArray(body)) {
    // JSON Patch: `[{"op":"replace","path":"/spec/unschedulable","value":true}]`
    for (const op of body) {
      const o = asObject(op);
      if (o?.path !== '/spec/unschedulable') continue;
      if (o.op === 'remove') return null;
      return o.value === true ? true : o.value === false ? false : null;
    }
    return undefined;
  }
  const spec = asObject(dig(body, 'spec'));
  if (!spec || !('unschedulable' in spec)) return undefined;
  return spec.unschedulable === true ? true : spec.unschedulable === false ? false : null;
}

function containersOf(body: unknown): unknown[] {
  const specs = [dig(body, 'spec'), dig(body, 'spec', 'template', 'spec'), dig(body, 'spec', 'jobTemplate', 'spec', 'template', 'spec')];
  return specs.flatMap((s) => [...asArray(dig(s, 'containers')), ...asArray(dig(s, 'initContainers'))]);
}

function patchesImage(body: unknown): boolean {
  if (Array.isArray(body)) {
    return body.some((op) => /\/containers\/\d+\/image$/.test(String(asObject(op)?.path)));
  }
  return containersOf(body).some((c) => typeof dig(c, 'image') === 'string');
}

function setsRestartedAt(body: unknown): boolean {
  if (Array.isArray(body)) return body.some((op) => String(asObject(op)?.path).includes('restartedAt'));
  const annotations = asObject(dig(body, 'spec', 'template', 'metadata', 'annotations'));
  return annotations !== undefined && RESTARTED_AT in annotations;
}

/** Only `spec.replicas` changes: `kubectl scale` on an object without the scale subresource, or an HPA-like patch. */
function onlyReplicas(body: unknown): boolean {
  const obj = asObject(body);
  const spec = asObject(obj?.spec);
  if (!obj || !spec) return false;
  const topKeys = Object.keys(obj).filter((k) => k !== 'metadata');
  return topKeys.length === 1 && Object.keys(spec).length === 1 && 'replicas' in spec;
}

/**
 * The operation a request performed, most specific first: subresources (exec, eviction, scale…),
 * then what a write's body does (cordon, rollout restart, image change), then kind-based classes
 * (RBAC, secret reads), then the verb. At Metadata level there is no body, so a cordon sent as a
 * patch can only be reported as `patch`.
 */
export function classifyOperation(input: OperationInput): OperationClass {
  const { verb, resource, subresource, requestObject: body } = input;
  if (verb === 'impersonate') return 'impersonate';
  switch (subresource) {
    case 'exec':
      return 'exec';
    case 'attach':
      return 'attach';
    case 'portforward':
      return 'port-forward';
    case 'proxy':
      return 'proxy';
    case 'eviction':
      if (verb === 'create') return input.clientName === 'kubectl' ? 'drain' : 'evict';
      break;
    case 'scale':
      if (verb === 'update' || verb === 'patch') return 'scale';
      break;
    case 'token':
      if (resource === 'serviceaccounts' && verb === 'create') return 'token-request';
      break;
    default:
      break;
  }
  if (resource === 'nodes' && !subresource && (verb === 'patch' || verb === 'update')) {
    const value = unschedulable(body);
    if (value === true) return 'cordon';
    if (value === false || (value === null && verb === 'patch')) return 'uncordon';
  }
  if ((verb === 'patch' || verb === 'update') && !subresource && body !== undefined && body !== null) {
    if (setsRestartedAt(body)) return 'rollout-restart';
    // A full update always carries every image, so only a patch reliably means "the image changed".
    if (verb === 'patch' && patchesImage(body)) return 'image-change';
    if (onlyReplicas(body)) return 'scale';
  }
  if (input.apiGroup === 'rbac.authorization.k8s.io' && WRITE_VERBS.has(verb)) return 'rbac-change';
  if (resource === 'secrets' && (verb === 'get' || verb === 'list' || verb === 'watch')) return 'secret-read';
  switch (verb) {
    case 'get':
      return 'read';
    case 'list':
    case 'watch':
    case 'create':
    case 'update':
    case 'patch':
    case 'delete':
    case 'deletecollection':
      return verb;
    default:
      return 'other';
  }
}
