import { afterEach, describe, expect, it } from 'vitest';
import { AuditRecordCodec } from '@kaudit/audit-schema';
import type { IncomingRecord } from '@kaudit/kafka';
import { deadLetterReason } from '../dead-letter-reason.js';
import { Enricher } from '../enricher.js';
import { FIXTURE_SECRETS, FIXTURE_WINDOW, fixtureNames, loadFixture, rawRecord } from '../fixtures/fixtures.js';
import { DirectoryIndex, parseDirectory } from '../identity/directory.js';
import { IdentityResolver } from '../identity/identity-resolver.js';
import { EnrichThreads, type ThreadOutcome } from './enrich-threads.js';

const options = { maxObjectBytes: 64 * 1024, clusterProviders: {} };
const directory = parseDirectory(
  `
identities:
  - id: user:jane
    displayName: Jane Doe
    team: payments
namespaces:
  payments: payments-team
`,
  'yaml',
  'test',
);

/** Every fixture, then records enrich must dead-letter (not JSON, no cluster, not an audit event, outside the window). */
function records(): IncomingRecord[] {
  const good = fixtureNames().map((name, i) => rawRecord(loadFixture(name), { offset: i, truncated: i % 5 === 0 }));
  const noCluster = rawRecord(loadFixture('eks-scale-request'), { offset: 90 });
  delete noCluster.headers.cluster;
  noCluster.key = null;
  return [
    ...good,
    rawRecord(null, { offset: 91, value: Buffer.from('{"kind":"Event",') }),
    noCluster,
    rawRecord({ kind: 'Event', apiVersion: 'audit.k8s.io/v1' }, { offset: 92 }),
    rawRecord({ ...loadFixture('eks-scale-request'), requestReceivedTimestamp: '1999-01-01T00:00:00Z' }, { offset: 93 }),
  ];
}

/** The event loop's enricher over the same records: what the threads must reproduce byte for byte. */
async function onEventLoop(recs: readonly IncomingRecord[], index: DirectoryIndex): Promise<ThreadOutcome[]> {
  const identity = new IdentityResolver({ directory: () => index });
  const enricher = new Enricher({ identity, codec: new AuditRecordCodec(), options, window: FIXTURE_WINDOW });
  const out: ThreadOutcome[] = [];
  for (const raw of recs) {
    const o = await enricher.enrich(raw);
    out.push(o.ok ? { kind: 'enriched', out: o.out, operation: o.record.operation, resolvedBy: o.record.actor.resolvedBy } : { kind: 'dead-lettered', reason: deadLetterReason(o.error), resolvedBy: '' });
  }
  return out;
}

/** Outcomes with Buffers as text, comparable with toEqual (resolvedBy of dead letters aside: the loop's is not returned). */
function comparable(outcomes: readonly ThreadOutcome[]): unknown[] {
  return outcomes.map((o) => (o.kind === 'enriched' ? { ...o, out: { ...o.out, value: (o.out.value as Buffer).toString('base64') } } : o.kind === 'dead-lettered' ? { kind: o.kind, reason: o.reason } : o));
}

const started: EnrichThreads[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((t) => t.stop()));
});

async function startThreads(index: () => DirectoryIndex, remote = false, threads = 2): Promise<EnrichThreads> {
  const t = new EnrichThreads({ threads, setup: { options, window: FIXTURE_WINDOW, remote }, directory: index, fingerprint: new AuditRecordCodec().fingerprint, warmUp: { events: 200, maxMs: 5000 } });
  started.push(t);
  await t.start();
  return t;
}

describe('EnrichThreads', () => {
  it('enriches and dead-letters every record exactly as the event loop does, in order, no Secret value in its bytes', async () => {
    const threads = await startThreads(() => directory);
    const recs = records();
    const got = await threads.enrich(recs);
    expect(comparable(got)).toEqual(comparable(await onEventLoop(recs, directory)));
    expect(got.filter((o) => o.kind === 'dead-lettered')).toHaveLength(4);
    expect(got.filter((o) => o.kind === 'enriched').length).toBeGreaterThan(10);
    const produced = Buffer.concat(got.flatMap((o) => (o.kind === 'enriched' ? [o.out.value as Buffer] : [])));
    for (const secret of FIXTURE_SECRETS) expect(produced.includes(secret)).toBe(false);
  }, 60_000);

  it('uses the directory file as it is now: a reload reaches every thread', async () => {
    let index = DirectoryIndex.empty();
    const threads = await startThreads(() => index);
    const jane = [rawRecord(loadFixture('native-v1-secret-create'))];
    const before = await threads.enrich(jane);
    expect(before[0]).toMatchObject({ kind: 'enriched', resolvedBy: 'unresolved' });
    index = directory;
    // More batches than threads at once: each thread gets the new directory.
    const after = await Promise.all(Array.from({ length: 6 }, () => threads.enrich(jane)));
    for (const [o] of after) expect(o).toMatchObject({ kind: 'enriched', resolvedBy: 'directory-file' });
    expect(comparable(after[0] ?? [])).toEqual(comparable(await onEventLoop(jane, directory)));
  }, 60_000);

  it('leaves to the event loop the records the HTTP directory would be asked about, and only those', async () => {
    const threads = await startThreads(() => DirectoryIndex.empty(), true, 1);
    // jane: a human the built-in parse cannot place; the kube-scheduler: a system user no directory is asked about.
    const human = rawRecord(loadFixture('native-v1-secret-create'));
    const system = rawRecord({ ...loadFixture('native-v1-secret-create'), user: { username: 'system:kube-scheduler', groups: ['system:authenticated'] } });
    const [h, s] = await threads.enrich([human, system]);
    expect(h).toEqual({ kind: 'on-event-loop' });
    expect(s).toMatchObject({ kind: 'enriched', resolvedBy: 'builtin' });
  }, 60_000);
});
