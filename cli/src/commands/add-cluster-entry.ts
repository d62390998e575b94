import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { KauditError } from '@kaudit/errors';
import { clustersFileSchema } from '@kaudit/ingest';

/** What ingest will accept from the new cluster: a token's SHA-256, or a client certificate's CN. */
export type ClusterCredential = { sha256: string } | { commonName: string };

const CLUSTER_NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

/**
 * clusters.yaml text with one more credential for `cluster` (the cluster is created when new, so a
 * second `add` for the same name rotates: old and new token are both accepted until the old one is
 * removed). Comments and layout of the existing file are kept; the result is checked against
 * ingest's own schema, so what is written is what ingest loads.
 */
export function addClusterEntry(existing: string | undefined, source: string, cluster: string, credential: ClusterCredential): { text: string; created: boolean } {
  if (!CLUSTER_NAME.test(cluster)) {
    throw new KauditError('INPUT_INVALID', `cluster name ${JSON.stringify(cluster)}: lowercase letters, digits, ".", "_" and "-", at most 63, starting and ending with a letter or digit`);
  }
  const doc = parseDocument(existing && existing.trim() !== '' ? existing : 'clusters: {}\n');
  if (doc.errors.length > 0) throw new KauditError('CONFIG_INVALID', `${source} is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  let clusters = doc.get('clusters', true);
  if (clusters === undefined || clusters === null) {
    doc.set('clusters', new YAMLMap());
    clusters = doc.get('clusters', true);
  }
  if (!isMap(clusters)) throw new KauditError('CONFIG_INVALID', `${source}: "clusters" must be a map of cluster name to credentials`);
  clusters.flow = false;
  const created = !clusters.has(cluster);
  if (created) clusters.set(cluster, new YAMLMap());
  const entry = clusters.get(cluster, true);
  if (!isMap(entry)) throw new KauditError('CONFIG_INVALID', `${source}: clusters.${cluster} must be a map`);
  const [key, value] = 'sha256' in credential ? ['tokens', { sha256: credential.sha256 }] : ['clientCertCommonNames', credential.commonName];
  let list = entry.get(key, true);
  if (list === undefined) {
    entry.set(key, new YAMLSeq());
    list = entry.get(key, true);
  }
  if (!isSeq(list)) throw new KauditError('CONFIG_INVALID', `${source}: clusters.${cluster}.${key} must be a list`);
  list.flow = false;
  if ('commonName' in credential && list.items.some((i) => String((i as { value?: unknown }).value ?? i) === credential.commonName)) {
    throw new KauditError('INPUT_INVALID', `${source}: cluster ${cluster} already accepts client certificate CN ${credential.commonName}`);
  }
  list.add(doc.createNode(value));
  const text = doc.toString();
  const check = clustersFileSchema.safeParse(parseDocument(text).toJS());
  if (!check.success) {
    throw new KauditError('CONFIG_INVALID', `${source} would not load in ingest: ${check.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { text, created };
}
