/**
 * CPU per event of a stage next to the floor (issue 16): what parsing the events' JSON and Avro
 * encoding/decoding their enriched records costs by themselves, on the same events, in this process.
 * A stage's distance from the floor is its per-record overhead (Kafka encoding, framing, GC).
 */
import { readFileSync } from 'node:fs';
import type { AuditRecord, AuditRecordCodec } from '@kaudit/audit-schema';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 1/100 s on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process (all its threads) used so far, or undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may hold spaces, hence after the last ')'): utime is the 14th, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Measures `work` over `items` until at least `minMs` of CPU went by; µs of CPU per item. */
function cpuMicrosPerItem<T>(items: readonly T[], work: (item: T) => unknown, minMs = 300): number {
  let sink = 0;
  for (const item of items) sink += work(item) === undefined ? 0 : 1; // warm-up (JIT)
  const start = process.cpuUsage();
  let done = 0;
  for (;;) {
    for (const item of items) sink += work(item) === undefined ? 0 : 1;
    done += items.length;
    const used = process.cpuUsage(start);
    const micros = used.user + used.system;
    if (micros >= minMs * 1000 || items.length === 0) return sink >= 0 && done > 0 ? micros / done : 0;
  }
}

export interface CpuFloor {
  jsonParseUs: number;
  avroEncodeUs: number;
  avroDecodeUs: number;
}

/** The floor per event: JSON.parse of the raw bytes; Avro encode and decode of the enriched records (when given). */
export function cpuFloor(rawValues: readonly Buffer[], records: readonly AuditRecord[], codec: AuditRecordCodec): CpuFloor {
  const encoded = records.map((r) => codec.encode(r));
  return {
    jsonParseUs: cpuMicrosPerItem(rawValues, (b) => JSON.parse(b.toString('utf8')) as unknown),
    avroEncodeUs: records.length === 0 ? 0 : cpuMicrosPerItem(records, (r) => codec.encode(r)),
    avroDecodeUs: encoded.length === 0 ? 0 : cpuMicrosPerItem(encoded, (b) => codec.decode(b, codec.fingerprint)),
  };
}
