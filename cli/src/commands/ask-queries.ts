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
export const LOAD_KEY: Record<LoadDimension, string> = {
  user: 'actor_id',
  verb: 'verb',
  code: 'toString(response_code)',
  useragent: 'user_agent',
};

/**
 * Ranges up to this long are answered from audit_rollup_1m_v2, which counts distinct requests (a request stored twice
 * counts once) but must merge one hash per request; longer ranges from audit_load_1m (migration 0009), per-minute
 * counts per dimension that read in a fraction of the time but count a request delivered again in a later insert
 * twice (issue 16: 7 days by user took 5.9 s over 27M rows). Six hours is about 2M requests at the 50M a week,
 * where the distinct path still answers well under a second.
 */
export const LOAD_DISTINCT_MAX_MS = 6 * 3_600_000;

/** Which rollup answers `ask load` (and `--chart`) over the scope's range; see LOAD_DISTINCT_MAX_MS. */
export type LoadSource = 'distinct' | 'counts';

/** A query parameter time (`YYYY-MM-DD hh:mm:ss.ffffff`, UTC) as epoch milliseconds. */
function parseScopeTime(t: string): number {
  return Date.parse(`${t.slice(0, 23).replace(' ', 'T')}Z`);
}

export function loadSource(s: AskScope): LoadSource {
  return parseScopeTime(s.until) - parseScopeTime(s.since) <= LOAD_DISTINCT_MAX_MS ? 'distinct' : 'counts';
}

/** What a table of `ask load` over counts says under it, so the difference from the distinct path is never silent. */
export const LOAD_COUNTS_NOTE =
  `Counted from per-minute request counts (ranges over ${LOAD_DISTINCT_MAX_MS / 3_600_000} h): a request delivered twice in separate inserts ` +
  `(an apiserver retry, a re-import) counts twice here; ranges up to ${LOAD_DISTINCT_MAX_MS / 3_600_000} h count distinct requests.`;

const LOAD_COUNTS_WHERE = `dimension = {dimension:String}
          AND minute >= toStartOfMinute({since:DateTime64(6)}) AND minute < {until:DateTime64(6)}
          AND ({cluster:String} = '' OR cluster = {cluster:String})`;

/**
 * The busiest `limit` keys of the range in audit_load_1m (ties by key, so the answer never depends on storage). Read
 * through a subquery, as the chart's ranking is, so over a Distributed table it runs once on the initiator.
 */
export const LOAD_COUNTS_TOP = `SELECT key FROM (
          SELECT key, requests FROM {db:Identifier}.audit_load_1m WHERE ${LOAD_COUNTS_WHERE}
        ) GROUP BY key ORDER BY sum(requests) DESC, key ASC LIMIT {limit:UInt32}`;

/** The per-minute counts of audit_load_1m in the range, one row per minute × key (clusters summed). */
export const LOAD_COUNTS_PER_MINUTE = `SELECT minute, key, anyLast(actor_display_name) AS who, anyLast(actor_email) AS email, anyLast(actor_team) AS team, sum(requests) AS n
        FROM {db:Identifier}.audit_load_1m
        WHERE ${LOAD_COUNTS_WHERE}
        GROUP BY minute, key`;

/**
 * Requests per key over the range, with each key's busiest minute (of equally busy minutes the latest, so the answer
 * never depends on how rows are stored — one node or many shards). Short ranges read audit_rollup_1m_v2, the set of
 * distinct requests per minute, so an event stored twice counts once; long ranges the per-minute counts of
 * audit_load_1m, ranked first so only the top keys' minutes are summed (see LOAD_DISTINCT_MAX_MS).
 */
export function loadQuery(s: AskScope, by: LoadDimension, source: LoadSource = loadSource(s)): AskQuery {
  const key = LOAD_KEY[by];
  const person = by === 'user' ? `, anyLast(who) AS who, anyLast(email) AS email, anyLast(team) AS team` : '';
  const perSecond = `round(sum(n) / greatest(1, dateDiff('second', {since:DateTime64(6)}, {until:DateTime64(6)})), 2) AS per_second`;
  if (source === 'counts') {
    return {
      query: `SELECT key AS ${by}${person}, sum(n) AS requests, ${perSecond},
        max(n) AS peak_per_minute, argMax(minute, (n, minute)) AS peak_minute
      FROM (${LOAD_COUNTS_PER_MINUTE})
      WHERE key IN (${LOAD_COUNTS_TOP})
      GROUP BY key
      ORDER BY requests DESC, key ASC
      LIMIT {limit:UInt32}`,
      params: { ...scopeParams(s), dimension: by },
    };
  }
  return {
    query: `SELECT key AS ${by}${person}, sum(n) AS requests, ${perSecond},
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

/**
 * Who is getting 403s: per person (and the user they impersonated), how many, last time, and what they tried (sorted:
 * a set has no order of its own). Read from audit_forbidden (migration 0011), the 403 rows of audit_events as they are
 * stored, sorted by time: over audit_events a day's 403s are spread over every granule (issue 16).
 */
export function forbiddenQuery(s: AskScope): AskQuery {
  // The request was refused for the impersonated user, so that user is shown next to the person
  // who impersonated; a non-resource attempt (no object) is named by its URL path.
  return {
    query: `SELECT who, as_user, email, team, account, count() AS denied, max(event_time) AS last_time,
        arraySort(groupUniqArray(5)(concat(verb, ' ', if(object_resource = '', path(request_uri), concat(object_resource, if(object_subresource = '', '', concat('/', object_subresource))))))) AS attempts,
        arraySort(groupUniqArray(3)(cluster)) AS clusters
      FROM (
        SELECT cluster, audit_id, event_time, verb, object_resource, object_subresource, request_uri,
          actor_display_name AS who, if(impersonated, impersonated_user_name, '') AS as_user, actor_email AS email, actor_team AS team, actor_id AS account
        FROM {db:Identifier}.audit_forbidden
        WHERE response_code = 403 AND stage != 'RequestReceived' AND ${RANGE}
        LIMIT 1 BY cluster, audit_id
      )
      GROUP BY who, as_user, email, team, account
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

/**
 * Every request on one object, oldest first, one row per request (its most complete stage), with the bodies
 * the audit level kept so the caller can diff consecutive states (object-history.ts). With --limit, the
 * latest N requests are kept.
 */
export function historyQuery(s: AskScope, obj: { resource: string; name: string; namespace?: string }): AskQuery {
  return {
    query: `SELECT * FROM (
        SELECT event_time AS time, cluster, object_namespace AS namespace, operation, verb, object_subresource AS subresource,
          response_code AS code, ${PERSON}, user_name AS username,
          concat(client_name, if(client_version = '', '', concat('/', client_version))) AS client,
          summary, level, request_object, response_object, audit_id
        FROM {db:Identifier}.audit_events
        WHERE object_resource = {resource:String} AND object_name = {name:String}
          AND ({namespace:String} = '' OR object_namespace = {namespace:String})
          AND stage != 'RequestReceived' AND ${RANGE}
        ORDER BY event_time DESC, stage_time DESC
        LIMIT 1 BY cluster, audit_id
        LIMIT {limit:UInt32}
      )
      ORDER BY time ASC, audit_id ASC`,
    params: { ...scopeParams(s), resource: obj.resource, name: obj.name, namespace: obj.namespace ?? '' },
  };
}

/** Who `who` is: any of actor_id, email, display name or an account (username) of theirs, case-insensitive. */
const ACTOR_MATCH = `(lower(actor_id) = lower({who:String}) OR lower(actor_email) = lower({who:String})
  OR lower(actor_display_name) = lower({who:String}) OR lower(user_name) = lower({who:String}))`;

/**
 * One person across providers: the directory gives the same email to an EKS role, a GKE Google account and a
 * TKE sub-account; an identity without an email is its actor_id alone.
 */
const PERSON_KEY = `if(actor_email = '', actor_id, lower(actor_email))`;

/** The rows of every identity of the person (or people) `who` names. */
const OF_PERSON = `${PERSON_KEY} IN (SELECT DISTINCT ${PERSON_KEY} FROM {db:Identifier}.audit_events WHERE ${ACTOR_MATCH} AND ${RANGE})`;

const READ_VERBS = `('get', 'list', 'watch')`;

/**
 * The person behind `who` and what they did in the range: every account (actor_id) and username they used,
 * the clusters, and counts of mutations, reads and denials (403), one request counted once.
 */
export function actorSummaryQuery(s: AskScope, who: string): AskQuery {
  return {
    query: `SELECT any(actor_display_name) AS who, any(actor_email) AS email, any(actor_team) AS team,
        groupUniqArray(actor_id) AS accounts, groupUniqArray(user_name) AS usernames, groupUniqArray(cluster) AS clusters,
        countIf(verb NOT IN ${READ_VERBS}) AS mutations, countIf(verb IN ${READ_VERBS}) AS reads, countIf(code = 403) AS denied,
        min(event_time) AS first_time, max(event_time) AS last_time
      FROM (
        SELECT cluster, audit_id, event_time, verb, response_code AS code, user_name, actor_id, actor_display_name, actor_email, actor_team,
          ${PERSON_KEY} AS person
        FROM {db:Identifier}.audit_events
        WHERE ${OF_PERSON} AND stage != 'RequestReceived' AND ${RANGE}
        LIMIT 1 BY cluster, audit_id
      )
      GROUP BY person
      ORDER BY mutations DESC, reads DESC`,
    params: { ...scopeParams(s), who },
  };
}

/** What the person behind `who` changed (every verb but get/list/watch), newest first, across clusters. */
export function actorMutationsQuery(s: AskScope, who: string): AskQuery {
  return {
    query: `SELECT event_time AS time, cluster, object_namespace AS namespace,
        concat(object_resource, if(object_name = '', '', concat('/', object_name)), if(object_subresource = '', '', concat('/', object_subresource))) AS object,
        operation, verb, response_code AS code, actor_display_name AS who, actor_id AS account,
        concat(client_name, if(client_version = '', '', concat('/', client_version))) AS client, source_ips, summary
      FROM {db:Identifier}.audit_events
      WHERE ${OF_PERSON} AND verb NOT IN ${READ_VERBS} AND stage != 'RequestReceived' AND ${RANGE}
      ORDER BY event_time DESC, stage_time DESC
      LIMIT 1 BY cluster, audit_id
      LIMIT {limit:UInt32}`,
    params: { ...scopeParams(s), who },
  };
}
