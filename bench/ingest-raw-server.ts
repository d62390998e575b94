/**
 * The ingest bench's raw baseline, a process of its own as ingest is (issue 16: "the same I/O with the same
 * concurrency and batching"): node:http takes the same webhook bodies from the same clients over keep-alive
 * connections, reads each whole, and answers 200 once raw kafkajs acknowledged that body's records, the ones
 * ingest makes of it. What it leaves out is what ingest does on top of the I/O: it parses, checks and frames
 * nothing (the records are built before the load starts, and the body's `x-bench-body` header says which), it
 * has no router, auth, metrics or logging. Its sends are filled as BatchingPublisher fills them (what queued while a
 * send was in flight goes out in the next one, record by record up to 900 KiB), one send in flight (what libs/kafka
 * allows an idempotent producer), compressed with the service's codec.
 *
 * Started by bench/ingest.ts with `node --import tsx` and the services' V8 flags; env RAW_PORT, KAFKA_BROKERS,
 * RAW_TOPIC, RAW_COMPRESSION. Ready when GET /readyz answers 200; SIGTERM stops it.
 */
import { createServer } from 'node:http';
import { z } from 'zod';
import { createKafkaClient } from '@kaudit/kafka';
import { createLogger } from '@kaudit/logging';
import { Kafka, logLevel, RAW_CODECS } from './raw-kafkajs.js';
import { benchBatches, BODY_HEADER, CLUSTERS, rawRecordsOf, type RawRecord } from './ingest-bench-load.js';

/** BatchingPublisher's default bound of one send (INGEST_PUBLISH_MAX_BATCH_BYTES). */
const MAX_SEND_BYTES = 900 * 1024;

const env = z
  .object({ RAW_PORT: z.coerce.number().int().positive(), KAFKA_BROKERS: z.string().min(1), RAW_TOPIC: z.string().min(1), RAW_COMPRESSION: z.enum(['none', 'gzip', 'lz4', 'zstd']) })
  .parse(process.env);

const { batches } = benchBatches();
// Every (cluster, body) pair's records, built before anything is measured.
const recordsOf = new Map<string, { records: RawRecord[]; sizes: number[]; events: number }>();
// Sized as BatchingPublisher sizes records (value, key, framing, headers).
const sizeOf = (m: RawRecord) => m.value.length + m.key.length + 64 + Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + v.length + 8, 0);
for (const cluster of CLUSTERS) {
  batches.forEach((events, b) => {
    const records = rawRecordsOf(events, cluster);
    recordsOf.set(`${cluster}/${b}`, { records, sizes: records.map(sizeOf), events: events.length });
  });
}

// kafkajs keeps its codecs in one process-wide map that kaudit's client fills (lz4, zstd): made, never started,
// so that this process's raw producer compresses as the service's does.
createKafkaClient({ brokers: [env.KAFKA_BROKERS], clientId: 'bench-ingest-raw-codecs', logger: createLogger({ service: 'bench-ingest-raw', level: 'warn' }) });
const kafka = new Kafka({ clientId: 'bench-ingest-raw', brokers: [env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();

interface Pending {
  records: RawRecord[];
  sizes: number[];
  next: number;
  unsettled: number;
  failure: unknown;
  done: (err?: unknown) => void;
}
const queue: Pending[] = [];
let inFlight = false;
// BatchingPublisher's filling: what queued meanwhile goes out in the next send, record by record up to the
// bound, so a batch may end in one send and go on in the next; it settles once all of its sends answered.
const pump = (): void => {
  if (inFlight || queue.length === 0) return;
  const messages: RawRecord[] = [];
  const carried: Pending[] = [];
  let bytes = 0;
  while (queue.length > 0) {
    const p = queue[0] as Pending;
    const from = p.next;
    for (; p.next < p.records.length; p.next++) {
      const size = p.sizes[p.next] as number;
      if (messages.length > 0 && bytes + size > MAX_SEND_BYTES) break;
      messages.push(p.records[p.next] as RawRecord);
      bytes += size;
    }
    if (p.next > from) {
      carried.push(p);
      p.unsettled++;
    }
    if (p.next < p.records.length) break;
    queue.shift();
  }
  inFlight = true;
  const settle = (err?: unknown) => {
    for (const p of carried) {
      p.unsettled--;
      if (err !== undefined && p.failure === undefined) p.failure = err;
      if (p.unsettled === 0 && p.next === p.records.length) p.done(p.failure);
    }
  };
  producer
    .send({ topic: env.RAW_TOPIC, acks: -1, compression: RAW_CODECS[env.RAW_COMPRESSION], messages })
    .then(
      () => settle(),
      (err: unknown) => settle(err ?? new Error('send failed')),
    )
    .finally(() => {
      inFlight = false;
      pump();
    });
};

const PATH = /^\/v1\/clusters\/([^/]+)\/audit$/;
const server = createServer({ keepAlive: true }, (req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') {
    res.writeHead(200).end('ok');
    return;
  }
  const cluster = PATH.exec(req.url ?? '')?.[1];
  const batch = recordsOf.get(`${cluster}/${String(req.headers[BODY_HEADER])}`);
  // Read the whole body as ingest does (its bytes are what the records were made of), then publish its records.
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const answer = (status: number, json: Record<string, unknown>) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (batch === undefined || body.length === 0) {
      answer(400, { error: 'INPUT_INVALID', message: `no such bench body: cluster ${cluster}, ${BODY_HEADER} ${String(req.headers[BODY_HEADER])}` });
      return;
    }
    queue.push({
      records: batch.records,
      sizes: batch.sizes,
      next: 0,
      unsettled: 0,
      failure: undefined,
      done: (err) => {
        if (err === undefined) return answer(200, { accepted: batch.events, rejected: 0, truncated: 0, errors: [] });
        // The bench refuses a baseline that answered anything but 200; this log says why.
        process.stderr.write(`raw baseline send failed: ${String(err)}\n`);
        return answer(503, { error: 'KAFKA_UNAVAILABLE', message: String(err) });
      },
    });
    pump();
  });
});
server.listen(env.RAW_PORT, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void producer.disconnect().finally(() => process.exit(0));
});
