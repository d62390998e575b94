import { createHash, timingSafeEqual } from 'node:crypto';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { KauditError } from '@kaudit/errors';

const tokenSchema = z.union([
  z.object({ sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (sha256 of the token)') }).strict(),
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }).strict(),
]);

const clusterNameSchema = z.string().regex(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/, 'cluster names are lowercase letters, digits, ".", "_" and "-" (max 63)');

export const clustersFileSchema = z
  .object({
    clusters: z.record(
      clusterNameSchema,
      z
        .object({
          tokens: z.array(tokenSchema).default([]),
          clientCertCommonNames: z.array(z.string().min(1)).default([]),
        })
        .strict(),
    ),
  })
  .strict();

/** Why a request was refused: for the server's log only, never for the caller (issue 11). */
export type AuthFailure = 'unknown-cluster' | 'missing-credentials' | 'invalid-credentials' | 'credentials-of-another-cluster';

/**
 * What every refused caller is told, whatever the reason: a different status or message for an unknown
 * cluster (404) or another cluster's token (403) let anyone enumerate cluster names and confirm guessed tokens.
 */
export const UNAUTHENTICATED_MESSAGE = "unauthenticated: send this cluster's token as Authorization: Bearer <token>, or its client certificate";

/** The verified identity the cluster name on every event comes from. */
export type AuthOutcome =
  | { ok: true; cluster: string; via: 'token' | 'client-certificate' }
  | { ok: false; status: 401; code: 'UNAUTHENTICATED'; message: string; reason: AuthFailure };

const refused = (reason: AuthFailure): AuthOutcome => ({ ok: false, status: 401, code: 'UNAUTHENTICATED', message: UNAUTHENTICATED_MESSAGE, reason });

interface ClusterEntry {
  /** SHA-256 digests of accepted tokens: comparing digests keeps the comparison constant-time and length-independent. */
  digests: Buffer[];
  commonNames: ReadonlySet<string>;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Which cluster accepts which credentials, from clusters.yaml. Built once at start; tokens from env
 * are read from the injected snapshot, never from process.env.
 */
export class ClusterDirectory {
  readonly #clusters: ReadonlyMap<string, ClusterEntry>;

  private constructor(clusters: Map<string, ClusterEntry>) {
    this.#clusters = clusters;
  }

  /** Parses and validates clusters.yaml text; errors name the file, the line and what is wrong. */
  static parse(text: string, source: string, env: Readonly<Record<string, string | undefined>>): ClusterDirectory {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    if (doc.errors.length > 0) {
      const lines = doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return `  - ${pos ? `line ${pos.line}: ` : ''}${e.message.split('\n')[0] ?? e.message}`;
      });
      throw new KauditError('CONFIG_INVALID', `${source} is not valid YAML:\n${lines.join('\n')}`);
    }
    const result = clustersFileSchema.safeParse(doc.toJS());
    const problems: string[] = [];
    const at = (path: readonly PropertyKey[]): string => {
      const node: unknown = doc.getIn(path.map(String), true);
      const offset = isNode(node) ? node.range?.[0] : undefined;
      return offset === undefined ? '' : `line ${lineCounter.linePos(offset).line}: `;
    };
    if (!result.success) {
      for (const issue of result.error.issues) {
        // For a missing key point at its parent, which does exist in the file.
        const path = issue.path;
        const where = at(path) || at(path.slice(0, -1));
        problems.push(`  - ${where}${path.map(String).join('.') || '(root)'}: ${issue.message}`);
      }
      throw new KauditError('CONFIG_INVALID', `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`);
    }
    const clusters = new Map<string, ClusterEntry>();
    for (const [name, spec] of Object.entries(result.data.clusters)) {
      const digests: Buffer[] = [];
      for (const [i, token] of spec.tokens.entries()) {
        if ('sha256' in token) {
          digests.push(Buffer.from(token.sha256.toLowerCase(), 'hex'));
          continue;
        }
        const value = env[token.env];
        if (value === undefined || value === '') {
          problems.push(`  - ${at(['clusters', name, 'tokens', i])}clusters.${name}.tokens.${i}: environment variable ${token.env} is not set`);
          continue;
        }
        digests.push(sha256(value));
      }
      if (digests.length === 0 && spec.clientCertCommonNames.length === 0) {
        problems.push(`  - ${at(['clusters', name])}clusters.${name}: needs at least one token or client certificate common name`);
      }
      clusters.set(name, { digests, commonNames: new Set(spec.clientCertCommonNames) });
    }
    if (problems.length > 0) {
      throw new KauditError('CONFIG_INVALID', `${source} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`);
    }
    return new ClusterDirectory(clusters);
  }

  get names(): string[] {
    return [...this.#clusters.keys()];
  }

  has(cluster: string): boolean {
    return this.#clusters.has(cluster);
  }

  /**
   * Decides who is calling for `cluster`: a verified client certificate first (the apiserver's
   * webhook kubeconfig can carry one), then the bearer token. Every mismatch is the same 401; the
   * `reason` is for the server's log. An unknown cluster's token is still hashed and compared, so
   * it costs the same as a known one's.
   */
  authenticate(cluster: string, credentials: { bearerToken?: string | undefined; certCommonName?: string | undefined }): AuthOutcome {
    const target = this.#clusters.get(cluster);
    const cn = credentials.certCommonName;
    if (cn !== undefined && target?.commonNames.has(cn)) return { ok: true, cluster, via: 'client-certificate' };
    const token = credentials.bearerToken;
    const digest = token === undefined || token === '' ? undefined : sha256(token);
    if (target !== undefined && digest !== undefined && matches(target.digests, digest)) return { ok: true, cluster, via: 'token' };
    let elsewhere = cn !== undefined && [...this.#clusters.values()].some((c) => c !== target && c.commonNames.has(cn));
    if (digest !== undefined) for (const entry of this.#clusters.values()) if (entry !== target && matches(entry.digests, digest)) elsewhere = true;
    if (target === undefined) return refused('unknown-cluster');
    if (elsewhere) return refused('credentials-of-another-cluster');
    return refused(digest === undefined && cn === undefined ? 'missing-credentials' : 'invalid-credentials');
  }
}

/** Compares against every digest without stopping early, so timing does not reveal which one matched. */
function matches(digests: readonly Buffer[], digest: Buffer): boolean {
  let found = false;
  for (const d of digests) found = timingSafeEqual(d, digest) || found;
  return found;
}
