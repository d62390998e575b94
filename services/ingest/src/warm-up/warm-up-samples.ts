/**
 * Sample webhook bodies for ingest's start-up warm-up (issue 15 §1): audit.k8s.io/v1 Events of the
 * kinds an apiserver sends most — written from the Kubernetes audit API reference (Event, UserInfo,
 * ObjectReference, metav1.Status) — so the parse, check and record-building code meets the shapes
 * of real traffic before real traffic arrives: every level and stage, reads and writes, refusals, an
 * exec, a non-resource URL, an impersonated request, request/response objects, and one event per
 * body that is refused (the DLQ path's checks; the warm-up drops it, nothing is written).
 */

type Event = Record<string, unknown>;

const NODES = ['ip-10-0-1-12.eu-west-1.compute.internal', 'ip-10-0-2-31.eu-west-1.compute.internal', 'ip-10-0-3-7.eu-west-1.compute.internal'];
const NAMESPACES = ['payments', 'checkout', 'kube-system', 'monitoring', 'default'];
const PERSON = { username: 'maria.garcia@example.com', groups: ['platform-admins', 'system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=8c2f4e1a-0b7d-4c3e-9a65-2f1d0e9b8a77'] } };

function auditId(n: number): string {
  const hex = (v: number, width: number) => (v >>> 0).toString(16).padStart(width, '0').slice(-width);
  return `${hex(n * 2654435761, 8)}-${hex(n, 4)}-4${hex(n * 7, 3)}-a${hex(n * 13, 3)}-${hex(n * 40503, 8)}${hex(n, 4)}`;
}

/** Each template writes one event of a kind; `n` varies names, `at` is the time both timestamps are near. */
const TEMPLATES: ((n: number, at: (offsetUs: number) => string) => Event)[] = [
  // The kubelet renewing its node lease: the commonest write of any cluster.
  (n, at) => ({
    level: 'Metadata',
    stage: 'ResponseComplete',
    requestURI: `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODES[n % NODES.length]}?timeout=10s`,
    verb: 'update',
    user: { username: `system:node:${NODES[n % NODES.length]}`, groups: ['system:nodes', 'system:authenticated'] },
    sourceIPs: ['10.0.1.12'],
    userAgent: 'kubelet/v1.30.4 (linux/amd64) kubernetes/a51b3b7',
    objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: NODES[n % NODES.length], apiGroup: 'coordination.k8s.io', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(2400),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  }),
  // A controller's watch of pods: two stages of one request.
  (n, at) => ({
    level: 'Metadata',
    stage: n % 2 === 0 ? 'ResponseStarted' : 'ResponseComplete',
    requestURI: `/api/v1/pods?allowWatchBookmarks=true&resourceVersion=${4_100_000 + n}&timeout=7m31s&watch=true`,
    verb: 'watch',
    user: { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.10'],
    userAgent: 'kube-controller-manager/v1.30.4 (linux/amd64) kubernetes/a51b3b7/shared-informers',
    objectRef: { resource: 'pods', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(n % 2 === 0 ? 900 : 451_000_000),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole "system:kube-controller-manager" to User "system:kube-controller-manager"' },
  }),
  // A person listing pods with kubectl.
  (n, at) => ({
    level: 'Request',
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/${NAMESPACES[n % NAMESPACES.length]}/pods?limit=500`,
    verb: 'list',
    user: PERSON,
    sourceIPs: ['203.0.113.24', '10.0.0.4'],
    userAgent: 'kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350',
    objectRef: { resource: 'pods', namespace: NAMESPACES[n % NAMESPACES.length], apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(18_000),
  }),
  // A Deployment created by a CI service account, with both objects (RequestResponse).
  (n, at) => {
    const name = `api-${n % 40}`;
    const spec = { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `registry.example.com/${name}:1.${n % 9}.0`, ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }] } } };
    return {
      level: 'RequestResponse',
      stage: 'ResponseComplete',
      requestURI: `/apis/apps/v1/namespaces/${NAMESPACES[n % 2]}/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict`,
      verb: 'create',
      user: { username: 'system:serviceaccount:ci:deployer', uid: '5b0c3a2e-1f4d-4e8a-9c7b-6d5e4f3a2b1c', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'], extra: { 'authentication.kubernetes.io/pod-name': ['deployer-6f7c9d8b5-q4w2e'] } },
      sourceIPs: ['10.0.4.17'],
      userAgent: 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
      objectRef: { resource: 'deployments', namespace: NAMESPACES[n % 2], name, apiGroup: 'apps', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name, namespace: NAMESPACES[n % 2], labels: { app: name } }, spec },
      responseObject: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { name, namespace: NAMESPACES[n % 2], uid: auditId(n + 7), resourceVersion: String(5_000_000 + n), generation: 1, creationTimestamp: at(0).replace(/\.\d+Z$/, 'Z'), labels: { app: name } },
        spec: { ...spec, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
        status: {},
      },
      requestReceivedTimestamp: at(0),
      stageTimestamp: at(9100),
      annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "deployer/ci" of ClusterRole "edit" to ServiceAccount "deployer/ci"' },
    };
  },
  // A refused read of Secrets (403, metav1.Status in the response).
  (n, at) => ({
    level: 'Metadata',
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/${NAMESPACES[n % NAMESPACES.length]}/secrets`,
    verb: 'list',
    user: { username: 'system:serviceaccount:monitoring:kube-state-metrics', uid: '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6', groups: ['system:serviceaccounts', 'system:serviceaccounts:monitoring', 'system:authenticated'] },
    sourceIPs: ['10.0.2.88'],
    userAgent: 'kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/ed4e6de',
    objectRef: { resource: 'secrets', namespace: NAMESPACES[n % NAMESPACES.length], apiVersion: 'v1' },
    responseStatus: { metadata: {}, status: 'Failure', message: `secrets is forbidden: User "system:serviceaccount:monitoring:kube-state-metrics" cannot list resource "secrets" in API group "" in the namespace "${NAMESPACES[n % NAMESPACES.length]}"`, reason: 'Forbidden', details: { kind: 'secrets' }, code: 403 },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(600),
    annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
  }),
  // An exec into a pod: the connection upgrade is reported at ResponseStarted (101).
  (n, at) => ({
    level: 'Request',
    stage: 'ResponseStarted',
    requestURI: `/api/v1/namespaces/payments/pods/ledger-${n % 7}-0/exec?command=sh&container=ledger&stdin=true&stdout=true&tty=true`,
    verb: 'create',
    user: PERSON,
    sourceIPs: ['203.0.113.24'],
    userAgent: 'kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350',
    objectRef: { resource: 'pods', namespace: 'payments', name: `ledger-${n % 7}-0`, apiVersion: 'v1', subresource: 'exec' },
    responseStatus: { metadata: {}, code: 101 },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(31_000),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "platform-admins" of ClusterRole "cluster-admin" to Group "platform-admins"' },
  }),
  // A probe of a non-resource URL (no objectRef).
  (n, at) => ({
    level: 'Metadata',
    stage: 'ResponseComplete',
    requestURI: n % 2 === 0 ? '/readyz' : '/livez?verbose',
    verb: 'get',
    user: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    sourceIPs: ['10.0.0.2'],
    userAgent: 'kube-probe/1.30',
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(300),
  }),
  // A delete of a ConfigMap, impersonating a service account.
  (n, at) => ({
    level: 'Request',
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/checkout/configmaps/feature-flags-${n % 12}`,
    verb: 'delete',
    user: PERSON,
    impersonatedUser: { username: 'system:serviceaccount:checkout:release', groups: ['system:serviceaccounts', 'system:serviceaccounts:checkout', 'system:authenticated'] },
    sourceIPs: ['203.0.113.24'],
    userAgent: 'kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350',
    objectRef: { resource: 'configmaps', namespace: 'checkout', name: `feature-flags-${n % 12}`, apiVersion: 'v1' },
    responseStatus: { metadata: {}, status: 'Success', details: { name: `feature-flags-${n % 12}`, kind: 'configmaps', uid: auditId(n + 3) }, code: 200 },
    requestObject: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(7200),
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "release/checkout" of ClusterRole "edit" to ServiceAccount "release/checkout"' },
  }),
  // The scheduler binding a pod (a subresource create), at RequestReceived: no response yet.
  (n, at) => ({
    level: 'Metadata',
    stage: 'RequestReceived',
    requestURI: `/api/v1/namespaces/${NAMESPACES[n % NAMESPACES.length]}/pods/worker-${n % 30}-7c9f/binding`,
    verb: 'create',
    user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.10'],
    userAgent: 'kube-scheduler/v1.30.4 (linux/amd64) kubernetes/a51b3b7/scheduler',
    objectRef: { resource: 'pods', namespace: NAMESPACES[n % NAMESPACES.length], name: `worker-${n % 30}-7c9f`, apiVersion: 'v1', subresource: 'binding' },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(0),
  }),
  // A patch of a node's status by its kubelet (Request level: the patch is kept, the response not).
  (n, at) => ({
    level: 'Request',
    stage: 'ResponseComplete',
    requestURI: `/api/v1/nodes/${NODES[n % NODES.length]}/status?timeout=10s`,
    verb: 'patch',
    user: { username: `system:node:${NODES[n % NODES.length]}`, groups: ['system:nodes', 'system:authenticated'] },
    sourceIPs: ['10.0.2.31'],
    userAgent: 'kubelet/v1.30.4 (linux/amd64) kubernetes/a51b3b7',
    objectRef: { resource: 'nodes', name: NODES[n % NODES.length], apiVersion: 'v1', subresource: 'status' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: { status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: at(0).replace(/\.\d+Z$/, 'Z'), reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } },
    requestReceivedTimestamp: at(0),
    stageTimestamp: at(4100),
  }),
];

/**
 * `bodies` EventList bodies of `perBody` events each, their times just before `nowMs` (inside any
 * accepted window). The last event of each body is refused by the check (no stage): the warm-up runs
 * the refusal path's checks too, and drops what they return.
 */
export function warmUpBodies(options: { bodies: number; perBody: number; nowMs: number }): Buffer[] {
  const { bodies, perBody, nowMs } = options;
  return Array.from({ length: bodies }, (_, b) => {
    const items = Array.from({ length: perBody }, (_, i) => {
      const n = b * perBody + i;
      // Ten minutes back: the longest request (a watch, 451 s) still ends before now.
      const startUs = (nowMs - 600_000) * 1000 + n * 97;
      const at = (offsetUs: number) => {
        const us = startUs + offsetUs;
        return `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
      };
      const template = TEMPLATES[(n * 7 + b) % TEMPLATES.length] as (typeof TEMPLATES)[number];
      const event: Event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: auditId(n + 1), ...template(n, at) };
      if (i === perBody - 1) delete event.stage;
      return event;
    });
    return Buffer.from(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items }));
  });
}
