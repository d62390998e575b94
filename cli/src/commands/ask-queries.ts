/**
 * The canned questions of `kaudit ask`, as fixed SQL with {name:Type} parameters: user input only ever
 * travels as query_params, never into the SQL text (the `load` dimension picks one of four constant
 * fragments from a closed map). Each query shows the resolved person — display name, email, team — next to
 * the account ID, and collapses an event's stages to one row (LIMIT 1 BY cluster, audit_id).
 */

export interface AskQuery {
  query: string;
  params: Record<string, string | number>;
}

export interface AskScope {
  database: string;
  /** '' = every cluster. */
  cluster: string;
  since: string;
  until: string;
  limit: number;
}

const RANGE = `event_time >= {since:DateTime64(6)} AND event_time < {until:DateTime64(6)}
  AND ({cluster:String} = '' OR cluster = {cluster:String})`;

const PERSON = `actor_display_name AS who, actor_email AS email, actor_team AS team, actor_id AS account`;

function scopeParams(s: AskScope): Record<string, string | number> {
  return { db: s.database, cluster: s.cluster, since: s.since, until: s.until, limit: s.limit };
}

/** kubectl short names and singulars → the plural resource the apiserver logs. */
const RESOURCE_ALIASES: Record<string, string> = {
  deploy: 'deployments', po: 'pods', svc: 'services', ns: 'namespaces', cm: 'configmaps', no: 'nodes', sts: 'statefulsets',
  ds: 'daemonsets', rs: 'replicasets', ing: 'ingresses', ingress: 'ingresses', pvc: 'persistentvolumeclaims', pv: 'persistentvolumes',
  sa: 'serviceaccounts', cj: 'cronjobs', crd: 'customresourcedefinitions', netpol: 'networkpolicies', networkpolicy: 'networkpolicies',
};

/** `deployment/nginx`, `deploy/nginx`, `deployments.apps/nginx` → { resource: 'deployments', name: 'nginx' }. */
export function parseObjectArg(arg: string): { resource: string; name: string } | undefined {
  const slash = arg.indexOf('/');
  if (slash <= 0 || slash === arg.length - 1) return undefined;
  const kind = (arg.slice(0, slash).toLowerCase().split('.')[0] ?? '').trim();
  const name = arg.slice(slash + 1);
  const resource = RESOURCE_ALIASES[kind] ?? (kind.endsWith('s') ? kind : kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`);
  return { resource, name };
}

export function whoDeletedQuery(s: AskScope, obj: { resource: string; name: string; namespace?: string }): AskQuery {
  return {
    query: `SELECT event_time AS time, cluster, object_namespace AS namespace, object_resource AS resource, object_name AS name,
        verb, response_code AS code, ${PERSON}, user_agent, source_ips
      FROM {db:Identifier}.audit_events
      WHERE object_resource = {resource:String} AND object_name = {name:String}
        AND ({namespace:String} = '' OR object_namespace = {namespace:String})
        AND verb IN ('delete', 'deletecollection') AND stage != 'RequestReceived' AND ${RANGE}
      ORDER BY event_time DESC, stage_time DESC
      LIMIT 1 BY cluster, audit_id
      LIMIT {limit:UInt32}`,
    params: { ...scopeParams(s), resource: obj.resource, name: obj.name, namespace: obj.namespace ?? '' },
  };
}

export function whoCordonedQuery(s: AskScope, node: string): AskQuery {
  return {
    query: `SELECT event_time AS time, cluster, object_name AS node, operation, verb, response_code AS code, ${PERSON}, user_agent, source_ips
      FROM {db:Identifier}.audit_events
      WHERE object_resource = 'nodes' AND object_name = {node:String}
        AND operation IN ('cordon', 'uncordon', 'drain') AND stage != 'RequestReceived' AND ${RANGE}
      ORDER BY event_time DESC, stage_time DESC
      LIMIT 1 BY cluster, audit_id
      LIMIT {limit:UInt32}`,
    params: { ...scopeParams(s), node },
  };
}

export const LOAD_DIMENSIONS = ['user', 'verb', 'code', 'useragent'] as const;
export type LoadDimension = (typeof LOAD_DIMENSIONS)[number];

/** Constant SQL per dimension (the only part of a query chosen at run time, from this closed set). */
const LOAD_KEY: Record<LoadDimension, string> = {
  user: 'actor_id',
  verb: 'verb',
  code: 'toString(response_code)',
  useragent: 'user_agent',
};

/**
 * Requests per key over the range from the per-minute rollup, with each key's busiest minute (of equally busy
 * minutes the latest, so the answer never depends on how rows are stored — one node or many shards). The rollup keeps
 * the set of distinct requests per minute (audit_rollup_1m_v2), so an event stored twice counts once.
 */
export function loadQuery(s: AskScope, by: LoadDimension): AskQuery {
  const key = LOAD_KEY[by];
  const person = by === 'user' ? `, anyLast(who) AS who, anyLast(email) AS email, anyLast(team) AS team` : '';
  return {
    query: `SELECT key AS ${by}${person}, sum(n) AS requests, round(sum(n) / greatest(1, dateDiff('second', {since:DateTime64(6)}, {until:DateTime64(6)})), 2) AS per_second,
        max(n) AS peak_per_minute, argMax(minute, (n, minute)) AS peak_minute
      FROM (
        SELECT minute, ${key} AS key, anyLast(actor_display_name) AS who, anyLast(actor_email) AS email, anyLast(actor_team) AS team, uniqExactMerge(requests) AS n
        FROM {db:Identifier}.audit_rollup_1m_v2
        WHERE minute >= toStartOfMinute({since:DateTime64(6)}) AND minute < {until:DateTime64(6)}
          AND ({cluster:String} = '' OR cluster = {cluster:String})
        GROUP BY minute, key
      )
      GROUP BY key
      ORDER BY requests DESC
      LIMIT {limit:UInt32}`,
    params: scopeParams(s),
  };
}

/** Who is getting 403s: per person, how many, last time, and what they tried (sorted: a set has no order of its own). */
export function forbiddenQuery(s: AskScope): AskQuery {
  return {
    query: `SELECT who, email, team, account, count() AS denied, max(event_time) AS last_time,
        arraySort(groupUniqArray(5)(concat(verb, ' ', object_resource, if(object_subresource = '', '', concat('/', object_subresource))))) AS attempts,
        arraySort(groupUniqArray(3)(cluster)) AS clusters
      FROM (
        SELECT cluster, audit_id, event_time, verb, object_resource, object_subresource,
          actor_display_name AS who, actor_email AS email, actor_team AS team, actor_id AS account
        FROM {db:Identifier}.audit_events
        WHERE response_code = 403 AND stage != 'RequestReceived' AND ${RANGE}
        LIMIT 1 BY cluster, audit_id
      )
      GROUP BY who, email, team, account
      ORDER BY denied DESC
      LIMIT {limit:UInt32}`,
    params: scopeParams(s),
  };
}

/** Who exec'd (or attached) into pods, with the command from the request URI. */
export function execQuery(s: AskScope): AskQuery {
  return {
    query: `SELECT event_time AS time, cluster, object_namespace AS namespace, object_name AS pod, object_subresource AS action,
        arrayStringConcat(arrayMap(p -> decodeURLComponent(substring(p, 9)), arrayFilter(p -> startsWith(p, 'command='), extractURLParameters(request_uri))), ' ') AS command,
        response_code AS code, ${PERSON}, source_ips
      FROM {db:Identifier}.audit_events
      WHERE object_resource = 'pods' AND (operation IN ('exec', 'attach') OR object_subresource IN ('exec', 'attach'))
        AND stage != 'RequestReceived' AND ${RANGE}
      ORDER BY event_time DESC, stage_time DESC
      LIMIT 1 BY cluster, audit_id
      LIMIT {limit:UInt32}`,
    params: scopeParams(s),
  };
}
