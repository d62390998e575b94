import { asObject } from './json-object.js';
import { redactEmbeddedText, redactPatch, redactText } from './redact.js';
import type { SensitiveKind } from './redact-request.js';

/**
 * A mutating admission webhook's patch, logged by the apiserver at Request level and above as
 * `patch.webhook.admission.k8s.io/round_N_index_M` (k8s.io/apiserver admission/plugin/webhook/mutating).
 */
const WEBHOOK_PATCH_PREFIX = 'patch.webhook.admission.k8s.io/';

function redactWebhookPatch(text: string, kinds: ReadonlySet<SensitiveKind>, removed: Set<string>): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not understood: on a sensitive kind it may be anything the webhook wrote into the object.
    return kinds.size > 0 ? redactText(text, removed) : text;
  }
  // Current apiservers log {configuration, webhook, patch, patchType}; older ones the patch alone.
  const wrapper = asObject(parsed);
  if (wrapper && 'patch' in wrapper) {
    const patch = redactPatch(wrapper.patch, kinds, removed);
    if (!patch.changed) return text;
    wrapper.patch = patch.value;
    return JSON.stringify(wrapper);
  }
  const patch = redactPatch(parsed, kinds, removed);
  return patch.changed ? JSON.stringify(patch.value) : text;
}

/**
 * Event-level annotations, redacted by the same rules as the bodies: a webhook's patch is a patch
 * of the request's object, so the request's kinds decide; any other annotation holding a JSON
 * document (a policy's report, a copy of an object) is redacted by what the document names itself.
 * What is left is still scanned by the final leak check.
 */
export function redactEventAnnotations(annotations: Readonly<Record<string, string>>, kinds: ReadonlySet<SensitiveKind>, removed: Set<string>, skip: ReadonlySet<string>): Record<string, string> {
  // Built without `delete`, which would turn the object into a slow dictionary on the hot path.
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (skip.has(key)) continue;
    out[key] = key.startsWith(WEBHOOK_PATCH_PREFIX) ? redactWebhookPatch(value, kinds, removed) : redactEmbeddedText(value, removed);
  }
  return out;
}
