/**
 * A seeded generator of realistic kube-apiserver audit events (audit.k8s.io/v1): the steady traffic
 * of controllers, kubelets and people, with the seed scenarios mixed in. The same seed gives the
 * same events, so demos and benchmarks are repeatable.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  hex(chars: number): string;
}

/** mulberry32: tiny, fast, good enough for synthetic traffic (not for anything secret). */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    hex: (chars) => Array.from({ length: chars }, () => Math.floor(next() * 16).toString(16)).join(''),
  };
}

export interface DemoPerson {
  /** The username the apiserver reports for this person on their cluster's provider. */
  username: string;
  groups: string[];
  extra?: Record<string, string[]>;
  displayName: string;
  email: string;
  team: string;
  userAgent: string;
  sourceIP: string;
}

/**
 * People of the demo company, one per identity style kaudit resolves: an EKS assumed role, a GKE
 * Google account, an AKS Entra object id, a TKE sub-account UIN (the seeds' "account 10001****7138"),
 * and a plain OIDC user.
 */
export const DEMO_PEOPLE: readonly DemoPerson[] = [
  {
    username: 'arn:aws:sts::111122223333:assumed-role/platform-admin/alice',
    groups: ['system:authenticated', 'platform-admins'],
    extra: { sessionName: ['alice'], accessKeyId: ['ASIAEXAMPLEKEYID0001'] },
    displayName: 'Alice Moreau',
    email: 'alice@example.com',
    team: 'platform',
    userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
    sourceIP: '10.20.1.15',
  },
  {
    username: 'bob@example.com',
    groups: ['system:authenticated'],
    displayName: 'Bob Nakamura',
    email: 'bob@example.com',
    team: 'payments',
    userAgent: 'kubectl/v1.30.4 (darwin/arm64) kubernetes/a51b3b7',
    sourceIP: '10.20.7.42',
  },
  {
    username: '6f1c2a3e-8d4b-4c6a-9e2f-1a2b3c4d5e6f',
    groups: ['system:authenticated', '0b7e9d2c-aad1-4f5e-b7c9-2d3e4f5a6b7c'],
    displayName: 'Carmen Ortiz',
    email: 'carmen@example.com',
    team: 'data',
    userAgent: 'Helm/3.15.2',
    sourceIP: '10.30.4.9',
  },
  {
    username: '100012347138',
    groups: ['system:authenticated'],
    displayName: 'Deng Wei',
    email: 'deng.wei@example.com',
    team: 'web',
    userAgent: 'kubectl/v1.29.6 (windows/amd64) kubernetes/062798d',
    sourceIP: '172.16.30.77',
  },
  {
    username: 'oidc:erik@example.com',
    groups: ['system:authenticated', 'sre'],
    displayName: 'Erik Lindqvist',
    email: 'erik@example.com',
    team: 'sre',
    userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
    sourceIP: '10.20.9.3',
  },
];

interface Machine {
  username: string;
  groups: string[];
  userAgent: string;
  sourceIP: string;
}

const CONTROLLERS: readonly Machine[] = [
  { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'], userAgent: 'kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:replicaset-controller', sourceIP: '10.0.0.10' },
  { username: 'system:kube-scheduler', groups: ['system:authenticated'], userAgent: 'kube-scheduler/v1.31.2 (linux/amd64) kubernetes/5864a46/leader-election', sourceIP: '10.0.0.10' },
  { username: 'system:serviceaccount:argocd:argocd-application-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'], userAgent: 'argocd-application-controller/v2.12.3 (linux/amd64)', sourceIP: '10.1.4.21' },
  { username: 'system:serviceaccount:flux-system:kustomize-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:flux-system', 'system:authenticated'], userAgent: 'kustomize-controller/v1.3.0 flux/v2', sourceIP: '10.1.4.30' },
];

const KUBE_STATE_METRICS: Machine = {
  username: 'system:serviceaccount:monitoring:kube-state-metrics',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'],
  userAgent: 'kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/abcdef0',
  sourceIP: '10.1.7.2',
};

const NAMESPACES = ['web', 'payments', 'data', 'monitoring', 'kube-system', 'argocd'] as const;
const NODES = ['172.16.18.11', '172.16.18.12', '172.16.18.13', '172.16.18.14'] as const;

export interface TrafficOptions {
  seed: number;
  clusters: readonly string[];
  /** Time of the first event (ms since epoch); events advance by `stepMs` on average. */
  startMs: number;
  stepMs?: number;
}

export interface GeneratedEvent {
  cluster: string;
  event: Record<string, unknown>;
}

/** The scenarios the demo must be able to answer; each appears once per cluster it is scheduled on. */
export type Scenario = 'nginx-changes' | 'delete-nginx' | 'cordon-node' | 'ksm-403-storm' | 'exec-into-pod';

function uuid(rng: Rng): string {
  const h = rng.hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function iso(ms: number, extraUs = 0): string {
  // The apiserver writes microsecond timestamps.
  const d = new Date(ms);
  const us = String(d.getUTCMilliseconds() * 1000 + extraUs).padStart(6, '0');
  return `${d.toISOString().slice(0, 19)}.${us}Z`;
}

interface EventSpec {
  user: { username: string; groups: string[]; extra?: Record<string, string[]> };
  userAgent: string;
  sourceIP: string;
  verb: string;
  resource: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  code: number;
  level?: 'Metadata' | 'Request' | 'RequestResponse';
  requestObject?: unknown;
  responseObject?: unknown;
  latencyUs?: number;
}

function requestURI(s: EventSpec): string {
  const base = s.apiGroup ? `/apis/${s.apiGroup}/v1` : '/api/v1';
  const ns = s.namespace ? `/namespaces/${s.namespace}` : '';
  const name = s.name ? `/${s.name}` : '';
  const sub = s.subresource ? `/${s.subresource}` : '';
  const query = s.verb === 'list' ? '?limit=500' : s.verb === 'watch' ? '?watch=true&resourceVersion=12345' : '';
  return `${base}${ns}/${s.resource}${name}${sub}${query}`;
}

/** Builds one audit.k8s.io/v1 Event as the apiserver would send it. */
export function buildEvent(rng: Rng, atMs: number, s: EventSpec): Record<string, unknown> {
  const latencyUs = s.latencyUs ?? 800 + rng.int(20_000);
  const allowed = s.code !== 403;
  const event: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: s.level ?? 'Metadata',
    auditID: uuid(rng),
    stage: 'ResponseComplete',
    requestURI: requestURI(s),
    verb: s.verb,
    user: s.user,
    sourceIPs: [s.sourceIP],
    userAgent: s.userAgent,
    objectRef: {
      resource: s.resource,
      ...(s.namespace ? { namespace: s.namespace } : {}),
      ...(s.name ? { name: s.name } : {}),
      apiGroup: s.apiGroup ?? '',
      apiVersion: 'v1',
      ...(s.subresource ? { subresource: s.subresource } : {}),
    },
    responseStatus: allowed ? { metadata: {}, code: s.code } : { metadata: {}, status: 'Failure', message: `${s.resource} is forbidden: User "${s.user.username}" cannot ${s.verb} resource "${s.resource}"`, reason: 'Forbidden', code: 403 },
    requestReceivedTimestamp: iso(atMs),
    stageTimestamp: iso(atMs + Math.floor(latencyUs / 1000), latencyUs % 1000),
    annotations: {
      'authorization.k8s.io/decision': allowed ? 'allow' : 'forbid',
      'authorization.k8s.io/reason': allowed ? `RBAC: allowed by ClusterRoleBinding "${s.user.username.split(':').pop() ?? 'binding'}-binding" of ClusterRole "edit" to User "${s.user.username}"` : '',
    },
  };
  if (s.requestObject !== undefined) event.requestObject = s.requestObject;
  if (s.responseObject !== undefined) event.responseObject = s.responseObject;
  return event;
}

function podObject(rng: Rng, ns: string, name: string): Record<string, unknown> {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name, namespace: ns, labels: { app: name.split('-')[0] ?? name, 'pod-template-hash': rng.hex(10) }, uid: uuid(rng) },
    spec: {
      containers: [{ name: 'app', image: `registry.example.com/${ns}/${name.split('-')[0] ?? 'app'}:1.${rng.int(30)}.${rng.int(10)}`, ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
      serviceAccountName: 'default',
      nodeName: rng.pick(NODES),
    },
  };
}

/** One event of ordinary background traffic. */
function backgroundEvent(rng: Rng, atMs: number): Record<string, unknown> {
  const roll = rng.next();
  if (roll < 0.3) {
    const node = rng.pick(NODES);
    return buildEvent(rng, atMs, { user: { username: `system:node:${node}`, groups: ['system:nodes', 'system:authenticated'] }, userAgent: 'kubelet/v1.31.2 (linux/amd64) kubernetes/5864a46', sourceIP: node, verb: 'patch', resource: 'nodes', name: node, subresource: 'status', code: 200, level: 'Metadata' });
  }
  if (roll < 0.5) {
    const c = rng.pick(CONTROLLERS);
    return buildEvent(rng, atMs, { user: { username: c.username, groups: c.groups }, userAgent: c.userAgent, sourceIP: c.sourceIP, verb: 'update', resource: 'leases', apiGroup: 'coordination.k8s.io', namespace: 'kube-system', name: c.username.split(':').pop() ?? 'lease', code: 200 });
  }
  if (roll < 0.7) {
    const c = rng.pick(CONTROLLERS);
    const ns = rng.pick(NAMESPACES);
    return buildEvent(rng, atMs, { user: { username: c.username, groups: c.groups }, userAgent: c.userAgent, sourceIP: c.sourceIP, verb: rng.pick(['get', 'list', 'watch']), resource: rng.pick(['pods', 'replicasets', 'deployments', 'configmaps']), apiGroup: rng.next() < 0.5 ? 'apps' : undefined, namespace: ns, code: 200 });
  }
  if (roll < 0.85) {
    const p = rng.pick(DEMO_PEOPLE);
    const ns = rng.pick(NAMESPACES);
    return buildEvent(rng, atMs, { user: { username: p.username, groups: p.groups, ...(p.extra ? { extra: p.extra } : {}) }, userAgent: p.userAgent, sourceIP: p.sourceIP, verb: rng.pick(['get', 'list']), resource: rng.pick(['pods', 'deployments', 'services', 'events']), namespace: ns, code: 200 });
  }
  const c = rng.pick(CONTROLLERS);
  const ns = rng.pick(NAMESPACES);
  const name = `${rng.pick(['web', 'api', 'worker'])}-${rng.hex(10)}-${rng.hex(5)}`;
  return buildEvent(rng, atMs, { user: { username: c.username, groups: c.groups }, userAgent: c.userAgent, sourceIP: c.sourceIP, verb: 'create', resource: 'pods', namespace: ns, name, code: 201, level: 'RequestResponse', requestObject: podObject(rng, ns, name), responseObject: podObject(rng, ns, name) });
}

/** The nginx Deployment of the demo (apps/v1, as the apiserver answers it), at one state of its life. */
function nginxDeployment(replicas: number, image: string, resourceVersion: number): Record<string, unknown> {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'nginx', namespace: 'web', uid: '3f1e7c52-9d0a-4b8e-a6f1-52c9e0d4b7a3', resourceVersion: String(resourceVersion), generation: resourceVersion - 48_000, labels: { app: 'nginx', team: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } },
    },
    status: { replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: resourceVersion - 48_000 },
  };
}

/** The events of one seed scenario, starting at `atMs`. */
export function scenarioEvents(rng: Rng, scenario: Scenario, atMs: number): Record<string, unknown>[] {
  const person = (username: string) => DEMO_PEOPLE.find((p) => p.username === username) as DemoPerson;
  const userOf = (p: DemoPerson) => ({ username: p.username, groups: p.groups, ...(p.extra ? { extra: p.extra } : {}) });
  switch (scenario) {
    case 'nginx-changes': {
      // What happened to the nginx Deployment before it was deleted (at RequestResponse level, so the history
      // can say what changed): Deng Wei looks at it, rolls a new image out, then scales it to zero.
      const deng = person('100012347138');
      const as = { user: userOf(deng), userAgent: deng.userAgent, sourceIP: deng.sourceIP, resource: 'deployments', apiGroup: 'apps', namespace: 'web', name: 'nginx', level: 'RequestResponse' as const };
      return [
        buildEvent(rng, atMs, { ...as, verb: 'get', code: 200, responseObject: nginxDeployment(3, 'nginx:1.25', 48_101) }),
        buildEvent(rng, atMs + 150, { ...as, verb: 'patch', code: 200, requestObject: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } }, responseObject: nginxDeployment(3, 'nginx:1.27', 48_102) }),
        buildEvent(rng, atMs + 300, { ...as, verb: 'patch', code: 200, requestObject: { spec: { replicas: 0 } }, responseObject: nginxDeployment(0, 'nginx:1.27', 48_103) }),
      ];
    }
    case 'delete-nginx': {
      const deng = person('100012347138');
      return [buildEvent(rng, atMs, { user: userOf(deng), userAgent: deng.userAgent, sourceIP: deng.sourceIP, verb: 'delete', resource: 'deployments', apiGroup: 'apps', namespace: 'web', name: 'nginx', code: 200, level: 'Request', requestObject: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background' } })];
    }
    case 'cordon-node': {
      const erik = person('oidc:erik@example.com');
      return [buildEvent(rng, atMs, { user: userOf(erik), userAgent: erik.userAgent, sourceIP: erik.sourceIP, verb: 'patch', resource: 'nodes', name: '172.16.18.13', code: 200, level: 'RequestResponse', requestObject: { spec: { unschedulable: true } } })];
    }
    case 'ksm-403-storm':
      // kube-state-metrics lost its ClusterRole: every LIST of every resource is refused, several times a second.
      return Array.from({ length: 60 }, (_, i) =>
        buildEvent(rng, atMs + i * 250, { user: { username: KUBE_STATE_METRICS.username, groups: KUBE_STATE_METRICS.groups }, userAgent: KUBE_STATE_METRICS.userAgent, sourceIP: KUBE_STATE_METRICS.sourceIP, verb: 'list', resource: ['pods', 'nodes', 'deployments', 'secrets', 'configmaps', 'services'][i % 6] as string, code: 403 }),
      );
    case 'exec-into-pod': {
      // A long-running request: the apiserver reports it when the stream starts and again when it ends.
      const bob = person('bob@example.com');
      const started = buildEvent(rng, atMs, { user: userOf(bob), userAgent: bob.userAgent, sourceIP: bob.sourceIP, verb: 'create', resource: 'pods', namespace: 'payments', name: 'payments-api-7d9f8b6c5-x2x4q', subresource: 'exec', code: 101 });
      started.stage = 'ResponseStarted';
      started.requestURI = `${String(started.requestURI)}?command=sh&container=app&stdin=true&stdout=true&tty=true`;
      const completed = { ...started, stage: 'ResponseComplete', stageTimestamp: new Date(atMs + 42_000).toISOString().replace('Z', '000Z') };
      return [started, completed];
    }
  }
}

/**
 * An endless, seeded stream of (cluster, event) pairs: background traffic across the clusters, with
 * each scenario injected once on the first cluster after `scenarioEvery` events.
 */
export function* auditTraffic(options: TrafficOptions & { scenarios?: readonly Scenario[]; scenarioEvery?: number }): Generator<GeneratedEvent> {
  const rng = createRng(options.seed);
  const step = options.stepMs ?? 5;
  const scenarios = [...(options.scenarios ?? [])];
  const every = options.scenarioEvery ?? 500;
  let at = options.startMs;
  for (let i = 0; ; i++) {
    at += rng.int(step * 2 + 1);
    if (scenarios.length > 0 && i > 0 && i % every === 0) {
      const scenario = scenarios.shift() as Scenario;
      const cluster = options.clusters[0] as string;
      for (const event of scenarioEvents(rng, scenario, at)) yield { cluster, event };
      continue;
    }
    yield { cluster: rng.pick(options.clusters), event: backgroundEvent(rng, at) };
  }
}

/** Groups events into webhook bodies (EventList) per cluster, as the apiserver's batching backend does. */
export function toEventList(events: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events };
}
