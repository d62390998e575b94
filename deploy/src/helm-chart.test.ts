import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterDirectory, loadIngestConfig } from '@kaudit/ingest';
import { loadClickHouseConnection, loadKafkaSecurity } from '@kaudit/config';
import { loadSinkConfig } from '@kaudit/sink';
import { teamUsersFromEnv } from 'kaudit';
import { ensureKubeTools, type KubeToolRelease } from './kube-tools.js';
import { lintChart, renderChart, type Manifest } from './helm-chart.js';
import { schemaProblems } from './kube-schema.js';
import { unknownFieldProblems } from './kube-strict-fields.js';
import { restrictedPodViolations } from './restricted-pod-security.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(REPO, 'deploy', 'helm', 'kaudit');
const CACHE = join(REPO, '.kaudit', 'cache');
const ci = (f: string) => join(CHART, 'ci', f);

/** What the default, TLS/mTLS, external-endpoint and multi-cluster installs look like (deploy/helm/kaudit/ci/). */
const SCENARIOS = {
  default: [],
  'tls-mtls': [ci('tls-mtls-values.yaml')],
  external: [ci('external-values.yaml')],
  'multi-cluster': [ci('multi-cluster-values.yaml')],
  'secure-engines': [ci('secure-engines-values.yaml')],
} as const satisfies Record<string, readonly string[]>;

/** ingest's /readyz gives Kafka 2 s (services/ingest/src/build-ingest.ts); the kubelet must wait longer. */
const INGEST_READY_CHECK_SECONDS = 2;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: { httpGet: { scheme?: string; port: string }; timeoutSeconds?: number };
  livenessProbe?: { httpGet: { scheme?: string; port: string }; timeoutSeconds?: number };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string };
  emptyDir?: object;
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  [field: string]: unknown;
}
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

const workloads = (ms: Manifest[]) => ms.filter((m) => m.kind === 'Deployment' || m.kind === 'Job');
const template = (m: Manifest) => (m.spec as { template: PodTemplate }).template;
const byName = (ms: Manifest[], kind: string, suffix: string): Manifest => {
  const found = ms.find((m) => m.kind === kind && m.metadata.name.endsWith(`-${suffix}`));
  if (found === undefined) throw new Error(`no ${kind} *-${suffix} among ${ms.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
};
const container = (m: Manifest): Container => {
  const c = template(m).spec.containers[0];
  if (c === undefined) throw new Error(`${m.metadata.name} has no container`);
  return c;
};
const env = (c: Container, name: string): EnvVar | undefined => c.env?.find((e) => e.name === name);
/** The env a container would see, with each Secret reference replaced by a stand-in value. */
const envMap = (c: Container): Record<string, string> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? `from-secret:${e.valueFrom?.secretKeyRef?.name}/${e.valueFrom?.secretKeyRef?.key}`]));
/** Which Secret (and key) a file path inside the container comes from. */
function secretFileSource(pod: PodSpec, c: Container, path: string): { secret: string; key: string } | undefined {
  for (const mount of c.volumeMounts ?? []) {
    if (!path.startsWith(`${mount.mountPath}/`)) continue;
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.secret === undefined) return undefined;
    const file = path.slice(mount.mountPath.length + 1);
    const item = volume.secret.items?.find((i) => i.path === file);
    return { secret: volume.secret.secretName, key: item?.key ?? file };
  }
  return undefined;
}

for (const release of ['helm3', 'helm4'] as const satisfies readonly KubeToolRelease[]) {
  describe(`Helm chart deploy/helm/kaudit with ${release}`, () => {
    let helm = '';
    beforeAll(async () => {
      ({ helm } = await ensureKubeTools(CACHE, release));
    }, 300_000);

    describe.each(Object.entries(SCENARIOS))('%s values', (_name, valuesFiles) => {
      let manifests: Manifest[] = [];
      beforeAll(async () => {
        manifests = await renderChart({ helm, chartDir: CHART, valuesFiles });
      }, 60_000);

      it('passes helm lint --strict', async () => {
        const out = await lintChart({ helm, chartDir: CHART, valuesFiles });
        expect(out).toContain('0 chart(s) failed');
      }, 60_000);

      it('renders only manifests valid against the Kubernetes JSON schemas', () => {
        expect(manifests.length).toBeGreaterThan(0);
        expect(manifests.flatMap((m) => schemaProblems(m))).toEqual([]);
      });

      it('uses only fields the Kubernetes API defines, at any depth (what the schemas alone let through)', () => {
        expect(unknownFieldProblems(manifests)).toEqual([]);
      }, 60_000);

      it('runs every pod under the restricted Pod Security profile, read-only root and no API token', () => {
        const violations = workloads(manifests).flatMap((m) => restrictedPodViolations(template(m).spec).map((v) => `${m.metadata.name}: ${v}`));
        expect(violations).toEqual([]);
        for (const m of workloads(manifests)) {
          const pod = template(m).spec;
          // The only writable path is an emptyDir.
          const tmp = container(m).volumeMounts?.find((v) => v.mountPath === '/tmp');
          expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${m.metadata.name} /tmp`).toBeDefined();
        }
      });

      it('takes every password and token from a Secret, never from a plain value', () => {
        const plain = workloads(manifests).flatMap((m) =>
          (container(m).env ?? []).filter((e) => /PASSWORD|TOKEN|SECRET|_KEY$/.test(e.name) && e.valueFrom?.secretKeyRef === undefined).map((e) => `${m.metadata.name}: ${e.name}`),
        );
        expect(plain).toEqual([]);
      });

      it('probes each service on its own port, with the scheme it serves and a timeout above its readiness check', () => {
        for (const m of manifests.filter((x) => x.kind === 'Deployment')) {
          const c = container(m);
          const port = c.ports?.find((p) => p.name === 'http');
          expect(String(port?.containerPort), m.metadata.name).toBe(env(c, 'HTTP_PORT')?.value);
          const tls = env(c, 'INGEST_TLS_CERT_FILE') !== undefined;
          for (const probe of [c.readinessProbe, c.livenessProbe]) {
            expect(probe?.httpGet.port).toBe('http');
            expect(probe?.httpGet.scheme).toBe(tls ? 'HTTPS' : 'HTTP');
            expect(probe?.timeoutSeconds ?? 1).toBeGreaterThan(INGEST_READY_CHECK_SECONDS);
          }
        }
      });

      it('gives every Deployment a PodDisruptionBudget and a topology spread that select its own pods', () => {
        for (const d of manifests.filter((x) => x.kind === 'Deployment')) {
          const labels = template(d).metadata.labels;
          const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
          const pdbs = manifests.filter((p) => p.kind === 'PodDisruptionBudget' && matches((p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels));
          expect(pdbs.map((p) => p.metadata.name), d.metadata.name).toEqual([d.metadata.name]);
          const spread = template(d).spec.topologySpreadConstraints as { labelSelector: { matchLabels: Record<string, string> } }[];
          expect(spread.length).toBeGreaterThan(0);
          for (const s of spread) expect(matches(s.labelSelector.matchLabels)).toBe(true);
        }
      });

      it('gives ClickHouse credentials per role: DDL to setup (which creates the sink and query users), insert to the sink, none to the rest', () => {
        const job = byName(manifests, 'Job', 'setup');
        const setup = container(job);
        for (const name of ['CLICKHOUSE_USER', 'KAUDIT_SINK_CLICKHOUSE_USER', 'KAUDIT_QUERY_CLICKHOUSE_USER']) expect(env(setup, name)?.value, name).toBeTruthy();
        for (const name of ['CLICKHOUSE_PASSWORD', 'KAUDIT_SINK_CLICKHOUSE_PASSWORD', 'KAUDIT_QUERY_CLICKHOUSE_PASSWORD']) expect(env(setup, name)?.valueFrom?.secretKeyRef, name).toBeDefined();
        const users = new Set(['CLICKHOUSE_USER', 'KAUDIT_SINK_CLICKHOUSE_USER', 'KAUDIT_QUERY_CLICKHOUSE_USER'].map((n) => env(setup, n)?.value));
        expect(users.size).toBe(3);
        const passwords = new Set(['CLICKHOUSE_PASSWORD', 'KAUDIT_SINK_CLICKHOUSE_PASSWORD', 'KAUDIT_QUERY_CLICKHOUSE_PASSWORD'].map((n) => JSON.stringify(env(setup, n)?.valueFrom)));
        expect(passwords.size).toBe(3);

        const sink = container(byName(manifests, 'Deployment', 'sink'));
        const sinkConfig = loadSinkConfig(envMap(sink));
        expect(sinkConfig.clickhouse.username).toBe(env(setup, 'KAUDIT_SINK_CLICKHOUSE_USER')?.value);
        expect(env(sink, 'CLICKHOUSE_PASSWORD')?.valueFrom).toEqual(env(setup, 'KAUDIT_SINK_CLICKHOUSE_PASSWORD')?.valueFrom);
        for (const other of ['ingest', 'enrich', 'alert']) {
          const names = (container(byName(manifests, 'Deployment', other)).env ?? []).map((e) => e.name);
          expect(names.filter((n) => n.includes('CLICKHOUSE')), other).toEqual([]);
        }
      });

      it('hands ingest a clusters.yaml and TLS files it loads from the mounted Secrets', () => {
        const deployment = byName(manifests, 'Deployment', 'ingest');
        const pod = template(deployment).spec;
        const c = container(deployment);
        const config = loadIngestConfig(envMap(c));
        expect(secretFileSource(pod, c, config.clustersFile)).toBeDefined();
        const tls = config.http.tls;
        if (tls.certFile !== undefined) {
          expect(secretFileSource(pod, c, tls.certFile)?.key).toBe('tls.crt');
          expect(secretFileSource(pod, c, tls.keyFile ?? '')?.key).toBe('tls.key');
          expect(secretFileSource(pod, c, tls.certFile)?.secret).toBe(secretFileSource(pod, c, tls.keyFile ?? '')?.secret);
        }
        if (tls.clientCaFile !== undefined) expect(secretFileSource(pod, c, tls.clientCaFile)).toBeDefined();
      });

      it('keeps every name and label value within 63 characters', () => {
        for (const m of manifests) {
          expect(m.metadata.name.length, m.metadata.name).toBeLessThanOrEqual(63);
          for (const v of Object.values(m.metadata.labels ?? {})) expect(v.length).toBeLessThanOrEqual(63);
        }
      });
    });

    it('wires TLS and mTLS: certificate and client CA mounted from their Secrets, HTTPS probes, an Ingress with TLS to the webhook Service', async () => {
      const ms = await renderChart({ helm, chartDir: CHART, valuesFiles: SCENARIOS['tls-mtls'] });
      const d = byName(ms, 'Deployment', 'ingest');
      const c = container(d);
      const config = loadIngestConfig(envMap(c));
      expect(secretFileSource(template(d).spec, c, config.http.tls.certFile ?? '')).toEqual({ secret: 'kaudit-ingest-tls', key: 'tls.crt' });
      expect(secretFileSource(template(d).spec, c, config.http.tls.keyFile ?? '')).toEqual({ secret: 'kaudit-ingest-tls', key: 'tls.key' });
      expect(secretFileSource(template(d).spec, c, config.http.tls.clientCaFile ?? '')).toEqual({ secret: 'kaudit-apiserver-ca', key: 'ca.crt' });
      expect(c.readinessProbe?.httpGet.scheme).toBe('HTTPS');
      const ingress = byName(ms, 'Ingress', 'ingest');
      const spec = ingress.spec as { tls: { hosts: string[]; secretName: string }[]; rules: { host: string; http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[] };
      expect(spec.tls).toEqual([{ hosts: ['audit.example.com'], secretName: 'kaudit-ingress-tls' }]);
      const backend = spec.rules[0]?.http.paths[0]?.backend.service;
      const service = byName(ms, 'Service', 'ingest');
      expect(backend).toEqual({ name: service.metadata.name, port: { name: 'http' } });
      expect((service.spec as { ports: { port: number }[] }).ports[0]?.port).toBe(443);
      // /metrics stays off the webhook port: Prometheus scrapes ingest's own metrics port, which is
      // the port ingest is told to serve them on.
      const monitor = byName(ms, 'ServiceMonitor', 'ingest');
      const scraped = (monitor.spec as { endpoints: { port: string }[] }).endpoints.map((e) => e.port);
      expect(scraped).toEqual(['metrics']);
      const metricsPort = (service.spec as { ports: { name: string; targetPort: string }[] }).ports.find((p) => p.name === 'metrics');
      expect(metricsPort?.targetPort).toBe('metrics');
      expect(String(c.ports?.find((p) => p.name === 'metrics')?.containerPort)).toBe(env(c, 'INGEST_METRICS_PORT')?.value);
      expect(env(c, 'INGEST_METRICS_HOST')?.value).toBe('0.0.0.0');
      expect(scraped).not.toContain('http');
    }, 60_000);

    it('wires Kafka TLS and SASL into every pod, each component as its own Kafka user, and ClickHouse TLS and cluster into the sink and setup', async () => {
      const ms = await renderChart({ helm, chartDir: CHART, valuesFiles: SCENARIOS['secure-engines'] });
      const components = ['ingest', 'enrich', 'sink', 'alert', 'setup'];
      const users = new Set<string>();
      for (const component of components) {
        const m = byName(ms, component === 'setup' ? 'Job' : 'Deployment', component);
        const pod = template(m).spec;
        const c = container(m);
        // The loader every service and the CLI use for Kafka security (libs/config) reads what the chart sets.
        const { ssl, sasl } = loadKafkaSecurity(envMap(c));
        expect(ssl, component).toBeDefined();
        expect(secretFileSource(pod, c, ssl?.caFile ?? ''), component).toEqual({ secret: 'kafka-cluster-ca', key: 'ca.crt' });
        expect(secretFileSource(pod, c, ssl?.certFile ?? ''), component).toEqual({ secret: 'kaudit-kafka-client', key: 'tls.crt' });
        expect(secretFileSource(pod, c, ssl?.keyFile ?? ''), component).toEqual({ secret: 'kaudit-kafka-client', key: 'tls.key' });
        expect(ssl?.servername).toBe('kafka.example.internal');
        expect(sasl?.mechanism, component).toBe('scram-sha-512');
        expect(sasl?.username, component).toBe(`kaudit-${component}`);
        expect(env(c, 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef, component).toEqual({ name: 'kaudit-kafka', key: `${component}-password` });
        users.add(sasl?.username ?? '');
      }
      expect(users.size).toBe(components.length);

      const sinkDeployment = byName(ms, 'Deployment', 'sink');
      const sink = container(sinkDeployment);
      const sinkConfig = loadSinkConfig(envMap(sink));
      expect(sinkConfig.kafka.ssl?.caFile).toBe(loadKafkaSecurity(envMap(sink)).ssl?.caFile);
      const setupJob = byName(ms, 'Job', 'setup');
      const setup = container(setupJob);
      for (const [m, c, connection] of [
        [sinkDeployment, sink, sinkConfig.clickhouse],
        [setupJob, setup, loadClickHouseConnection(envMap(setup), { url: 'http://unused:8123' })],
      ] as const) {
        const pod = template(m).spec;
        expect(connection.url).toBe('https://clickhouse.clickhouse.svc:8443');
        expect(secretFileSource(pod, c, connection.caFile ?? ''), m.metadata.name).toEqual({ secret: 'clickhouse-ca', key: 'ca.pem' });
        expect(secretFileSource(pod, c, connection.certFile ?? ''), m.metadata.name).toEqual({ secret: 'kaudit-clickhouse-client', key: 'tls.crt' });
        expect(secretFileSource(pod, c, connection.keyFile ?? ''), m.metadata.name).toEqual({ secret: 'kaudit-clickhouse-client', key: 'tls.key' });
        expect(connection.cluster).toBe('audit_cluster');
      }
      // Pods that never talk to ClickHouse get none of its certificates.
      for (const other of ['ingest', 'enrich', 'alert']) {
        const m = byName(ms, 'Deployment', other);
        expect((template(m).spec.volumes ?? []).map((v) => v.name).filter((n) => n.startsWith('clickhouse')), other).toEqual([]);
      }
    }, 60_000);

    it('gives the setup Job what team users need: the team list, each team\'s password from its Secret key, and the directory mounted', async () => {
      const ms = await renderChart({ helm, chartDir: CHART, valuesFiles: SCENARIOS['secure-engines'] });
      const job = byName(ms, 'Job', 'setup');
      const pod = template(job).spec;
      const c = container(job);
      const vars = envMap(c);
      const directory = vars.ENRICH_DIRECTORY_FILE ?? '';
      const mount = c.volumeMounts?.find((m) => directory.startsWith(`${m.mountPath}/`));
      expect(pod.volumes?.find((v) => v.name === mount?.name)?.configMap).toEqual({ name: 'kaudit-directory' });
      // What setup itself reads from that environment (the mounted file stood in by one of ours).
      const file = join(mkdtempSync(join(tmpdir(), 'kaudit-chart-')), 'directory.yaml');
      writeFileSync(file, 'namespaces:\n  web: web\n  payments-*: payments-eu\n');
      const target = teamUsersFromEnv({ ...vars, ENRICH_DIRECTORY_FILE: file });
      expect(target?.teams).toEqual(['web', 'payments-eu']);
      expect(target?.passwords).toEqual({ web: 'from-secret:kaudit-clickhouse-teams/web-password', 'payments-eu': 'from-secret:kaudit-clickhouse-teams/payments-eu-password' });
      // Only the setup Job learns team passwords.
      for (const m of workloads(ms)) expect((container(m).env ?? []).filter((e) => e.name.startsWith('KAUDIT_TEAM_')).length > 0, m.metadata.name).toBe(m === job);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'clickhouse.teams.names[0]': 'web' } })).rejects.toThrow(/teams.names needs enrich.directoryConfigMap/);
    }, 60_000);

    it('without Kafka security values connects in plaintext without SASL, and mounts no Kafka or ClickHouse certificate', async () => {
      const ms = await renderChart({ helm, chartDir: CHART });
      for (const m of workloads(ms)) {
        const c = container(m);
        expect(loadKafkaSecurity(envMap(c)), m.metadata.name).toEqual({ ssl: undefined, sasl: undefined });
        expect((template(m).spec.volumes ?? []).map((v) => v.name).filter((n) => /^(kafka|clickhouse)-/.test(n)), m.metadata.name).toEqual([]);
      }
    }, 60_000);

    it('without TLS values serves plain HTTP and mounts no certificate', async () => {
      const ms = await renderChart({ helm, chartDir: CHART });
      const c = container(byName(ms, 'Deployment', 'ingest'));
      expect(c.env?.map((e) => e.name).filter((n) => n.startsWith('INGEST_TLS'))).toEqual([]);
      expect(c.readinessProbe?.httpGet.scheme).toBe('HTTP');
      expect(ms.filter((m) => m.kind === 'Ingress')).toEqual([]);
    }, 60_000);

    it('renders a multi-cluster clusters.yaml that ingest accepts, with env tokens from Secrets', async () => {
      const ms = await renderChart({ helm, chartDir: CHART, valuesFiles: SCENARIOS['multi-cluster'] });
      const d = byName(ms, 'Deployment', 'ingest');
      const c = container(d);
      const config = loadIngestConfig(envMap(c));
      const source = secretFileSource(template(d).spec, c, config.clustersFile);
      const secret = ms.find((m) => m.kind === 'Secret' && m.metadata.name === source?.secret);
      const text = (secret?.stringData as Record<string, string> | undefined)?.[source?.key ?? ''];
      expect(text).toBeDefined();
      const clusters = ClusterDirectory.parse(text ?? '', 'rendered clusters.yaml', { ...envMap(c), KAUDIT_TOKEN_PROD_US: 'tok-us', KAUDIT_TOKEN_DEV: 'tok-dev' });
      expect(clusters.authenticate('prod-us', { bearerToken: 'tok-us' })).toMatchObject({ ok: true, cluster: 'prod-us' });
      expect(clusters.authenticate('dev.k3s-01', { bearerToken: 'tok-dev' })).toMatchObject({ ok: true, cluster: 'dev.k3s-01' });
      expect(clusters.authenticate('staging', { certCommonName: 'apiserver-staging' })).toMatchObject({ ok: true, cluster: 'staging' });
      expect(env(c, 'KAUDIT_TOKEN_PROD_US')?.valueFrom?.secretKeyRef).toEqual({ name: 'kaudit-cluster-tokens', key: 'prod-us' });
      // A change of clusters rolls ingest (it reads clusters.yaml at start).
      const other = await renderChart({ helm, chartDir: CHART, valuesFiles: SCENARIOS['multi-cluster'], set: { 'ingest.clusters.inline.extra.clientCertCommonNames[0]': 'x' } });
      expect(template(byName(other, 'Deployment', 'ingest')).metadata.annotations?.['checksum/clusters']).not.toBe(template(d).metadata.annotations?.['checksum/clusters']);
    }, 60_000);

    it('applies scheduling and pull settings to every pod, the setup Job included', async () => {
      const ms = await renderChart({ helm, chartDir: CHART, valuesFiles: SCENARIOS.external });
      for (const m of workloads(ms)) {
        const t = template(m);
        expect(t.spec.nodeSelector, m.metadata.name).toEqual({ 'kubernetes.io/os': 'linux' });
        expect(t.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'audit', effect: 'NoSchedule' }]);
        expect(t.spec.affinity).toBeDefined();
        expect(t.spec.imagePullSecrets).toEqual([{ name: 'registry-example' }]);
        expect(t.spec.priorityClassName).toBe('platform-high');
        expect(t.metadata.annotations?.['example.com/team']).toBe('platform');
        expect(t.metadata.labels['example.com/cost-center']).toBe('4711');
        expect(container(m).args?.[0]).toMatch(/^(services\/(ingest|enrich|sink|alert)|cli)\/dist\/main\.js$/);
      }
      const enrich = container(byName(ms, 'Deployment', 'enrich'));
      expect(env(enrich, 'ENRICH_HTTP_DIRECTORY_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'people-directory', key: 'token' });
    }, 60_000);

    it('keeps names within 63 characters and distinct for the longest release name Helm allows', async () => {
      const longRelease = `audit-${'x'.repeat(47)}`; // 53 characters, Helm's limit for a release name
      const ms = await renderChart({ helm, chartDir: CHART, release: longRelease, valuesFiles: [ci('tls-mtls-values.yaml'), ci('multi-cluster-values.yaml')] });
      const names = ms.map((m) => `${m.kind}/${m.metadata.name}`);
      expect(new Set(names).size).toBe(names.length);
      for (const m of ms) expect(m.metadata.name.length, m.metadata.name).toBeLessThanOrEqual(63);
      expect(ms.flatMap((m) => schemaProblems(m))).toEqual([]);
      expect(unknownFieldProblems(ms)).toEqual([]);
    }, 60_000);

    it('refuses values the schema does not describe and combinations that cannot work, naming them', async () => {
      await expect(renderChart({ helm, chartDir: CHART, set: { 'ingest.replcas': '3' } })).rejects.toThrow(/replcas/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'probes.timeoutSeconds': '1' } })).rejects.toThrow(/timeoutSeconds/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'ingest.tls.clientCASecret': 'ca' } })).rejects.toThrow(/clientCASecret needs ingest.tls.secret/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'ingest.clusters.existingSecret': '' } })).rejects.toThrow(/existingSecret .* or inline/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'kafka.tls.caSecret': 'ca' } })).rejects.toThrow(/need kafka.tls.enabled: true/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'kafka.sasl.mechanism': 'gssapi' } })).rejects.toThrow(/mechanism/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'clickhouse.tls.caSecret': 'ca' } })).rejects.toThrow(/clickhouse.tls needs an https:\/\/ clickhouse.url/);
      await expect(renderChart({ helm, chartDir: CHART, set: { 'clickhouse.cluster': 'a b' } })).rejects.toThrow(/cluster/);
    }, 60_000);
  });
}
