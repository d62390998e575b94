import { z } from 'zod';
import { loadConfig, type EnvMap } from './load-config.js';
import { secret } from './secret.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * How a kaudit component reaches ClickHouse — ONE definition for the sink, `kaudit setup` and every CLI
 * command that queries (issue 13): the URL (http or https), the user and password, the CA that signed
 * the server's certificate and an optional client certificate (mTLS), and the cluster name that turns on
 * cluster mode in setup. Certificates are file paths, read when the client is made.
 */
export const clickHouseConnectionShape = {
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL'),
  username: z.string().min(1).optional(),
  password: secret().optional(),
  /** PEM bundle of the CA(s) the server certificate must chain to (default: Node's public CAs). */
  caFile: z.string().min(1).optional(),
  /** Client certificate and key, for a server that requires one (both or neither). */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** A `remote_servers` cluster: setup then runs `ON CLUSTER` DDL with Replicated and Distributed tables. */
  cluster: z.string().regex(IDENTIFIER, 'a plain identifier (letters, digits, _)').optional(),
};

type ConnectionFields = { url: string; caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };

/**
 * The checks across fields, as a superRefine so a service can put the shape into its own section
 * (with its database, timeouts) and keep them: zod cannot extend a refined object.
 */
export function checkClickHouseConnection(c: ConnectionFields, ctx: z.RefinementCtx): void {
  if ((c.certFile === undefined) !== (c.keyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: [c.certFile === undefined ? 'certFile' : 'keyFile'], message: 'a client certificate needs both the certificate and the key file' });
  }
  const https = /^https:/i.test(c.url);
  for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
    if (c[key] !== undefined && !https) ctx.addIssue({ code: 'custom', path: [key], message: 'is only used with an https:// URL, and the URL is not https' });
  }
}

export const clickHouseConnectionSchema = z.object(clickHouseConnectionShape).superRefine(checkClickHouseConnection);

export type ClickHouseConnectionConfig = z.output<typeof clickHouseConnectionSchema>;

/** The environment variables of the connection, for a service's env map, under `path` in its config. */
export function clickHouseConnectionEnv(path: string): EnvMap {
  return {
    [`${path}.url`]: 'CLICKHOUSE_URL',
    [`${path}.username`]: 'CLICKHOUSE_USER',
    [`${path}.password`]: 'CLICKHOUSE_PASSWORD',
    [`${path}.caFile`]: 'CLICKHOUSE_CA_FILE',
    [`${path}.certFile`]: 'CLICKHOUSE_CERT_FILE',
    [`${path}.keyFile`]: 'CLICKHOUSE_KEY_FILE',
    [`${path}.cluster`]: 'CLICKHOUSE_CLUSTER',
  };
}

const connectionOnly = z.object({ clickhouse: clickHouseConnectionSchema });

/**
 * The connection alone from the environment (for the CLI), with the same errors as the services.
 * `defaults` fill what the environment leaves unset (e.g. the local stack's URL and query user).
 */
export function loadClickHouseConnection(
  env: Readonly<Record<string, string | undefined>>,
  defaults: { url: string; username?: string; password?: string },
  name = 'ClickHouse connection',
): Readonly<ClickHouseConnectionConfig> {
  const file = { clickhouse: { url: defaults.url, ...(defaults.username ? { username: defaults.username } : {}), ...(defaults.password ? { password: defaults.password } : {}) } };
  return loadConfig(connectionOnly, { env, envMap: clickHouseConnectionEnv('clickhouse'), file, name }).clickhouse;
}
