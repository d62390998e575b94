import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { KauditError } from '@kaudit/errors';
import { changedGroups, engineChangesSchema, engineSnapshotSchema, type EngineChanges, type RuleEngine } from '../engine/rule-engine.js';

/** The part of the checkpoint store a window checkpoint needs (CheckpointStore implements it). */
export interface CheckpointKv {
  /** Latest value of a key; undefined when absent or cleared. */
  get(key: string): Buffer | undefined;
  /** Keys under a prefix that hold a value. */
  keys(prefix: string): string[];
  /** Writes in order (one produce request); resolves once acknowledged. An empty value clears a key. */
  putMany(entries: readonly { key: string; value: Buffer }[]): Promise<void>;
}

export interface CheckpointWrite {
  kind: 'base' | 'delta';
  records: number;
  bytes: number;
  groups: number;
}

export interface WindowCheckpointOptions {
  kv: CheckpointKv;
  /** The partition's key, e.g. `eval:<topic>:<partition>`; also where the head lives. */
  key: string;
  /** Wall clock (ms): a new base's epoch is unique across restarts, so stale pieces never match. */
  nowMs: () => number;
  /** Groups per base piece (one record each, well under the topic's 8 MiB max.message.bytes). */
  chunkGroups?: number;
  /** Deltas accumulate until they outweigh the base (and at least this many bytes), then a new base. */
  minCompactBytes?: number;
  /** A new base at the latest after this many deltas, so a restore applies a bounded number. */
  maxDeltas?: number;
}

const offset = z.string().regex(/^\d+$/);
/** The layout before incremental checkpoints: the whole engine in one record (still read). */
const legacySchema = z.object({ nextOffset: offset, engine: engineSnapshotSchema });
const headSchema = z.object({ version: z.literal(2), epoch: z.number().int(), slot: z.union([z.literal(0), z.literal(1)]), chunks: z.number().int().min(1), nextOffset: offset });
const chunkSchema = z.object({ epoch: z.number().int(), index: z.number().int(), changes: engineChangesSchema });
const deltaSchema = z.object({ epoch: z.number().int(), seq: z.number().int(), nextOffset: offset, changes: engineChangesSchema });

const EMPTY = Buffer.alloc(0);
/** Base pieces go out in produce requests of about this size (each request is one record batch). */
const SEND_BYTES = 1024 * 1024;

function encode(value: unknown): Buffer {
  return gzipSync(JSON.stringify(value));
}

function decode(raw: Buffer): unknown {
  return JSON.parse(gunzipSync(raw).toString('utf8'));
}

/**
 * One partition's window state in the compacted state topic, written incrementally (issue 12 §3):
 * a base — the whole engine in pieces of `chunkGroups` groups — plus one small delta record per
 * batch holding only the groups that batch changed and the next offset it covers. When the deltas
 * outweigh the base, a new base is written into the other slot, the head is switched to it (one
 * record: the atomic step) and the superseded keys are cleared. A crash at any point leaves either
 * the old head with its complete base and deltas, or the new one; pieces are tagged with their
 * epoch so leftovers of an interrupted write never match. Bytes per batch follow what the batch
 * changed, not how many windows are open; the topic holds at most about two bases per partition.
 */
export class WindowCheckpoint {
  readonly #kv: CheckpointKv;
  readonly #key: string;
  readonly #nowMs: () => number;
  readonly #chunkGroups: number;
  readonly #minCompactBytes: number;
  readonly #maxDeltas: number;
  /** 0 until a base of this layout exists (nothing written yet, or a legacy record restored). */
  #epoch = 0;
  #slot: 0 | 1 = 1;
  #seq = 0;
  #baseBytes = 0;
  #deltaBytes = 0;

  constructor(options: WindowCheckpointOptions) {
    this.#kv = options.kv;
    this.#key = options.key;
    this.#nowMs = options.nowMs;
    this.#chunkGroups = options.chunkGroups ?? 2000;
    this.#minCompactBytes = options.minCompactBytes ?? 1024 * 1024;
    this.#maxDeltas = options.maxDeltas ?? 1000;
  }

  #chunkKey(slot: number, index: number): string {
    return `${this.#key}/b/${slot}/${index}`;
  }

  #deltaKey(slot: number, seq: number): string {
    return `${this.#key}/d/${slot}/${seq}`;
  }

  /**
   * Rebuilds `engine` (which must be empty) from what was written and returns the first offset the
   * state does not cover, or undefined when nothing was written. Throws INPUT_INVALID when the
   * stored state cannot be read whole.
   */
  restoreInto(engine: RuleEngine): bigint | undefined {
    const raw = this.#kv.get(this.#key);
    if (!raw) return undefined;
    let json: unknown;
    try {
      json = decode(raw);
    } catch (err) {
      throw new KauditError('INPUT_INVALID', `checkpoint ${this.#key}: head is not gzip JSON`, { cause: err });
    }
    const legacy = legacySchema.safeParse(json);
    if (legacy.success) {
      engine.restore(legacy.data.engine);
      return BigInt(legacy.data.nextOffset);
    }
    const head = headSchema.safeParse(json);
    if (!head.success) throw new KauditError('INPUT_INVALID', `checkpoint ${this.#key}: not a checkpoint head: ${head.error.message.slice(0, 500)}`);
    const { epoch, slot, chunks } = head.data;
    let baseBytes = 0;
    for (let index = 0; index < chunks; index++) {
      const piece = this.#kv.get(this.#chunkKey(slot, index));
      const parsed = piece ? chunkSchema.safeParse(this.#tryDecode(piece)) : undefined;
      if (!parsed?.success || parsed.data.epoch !== epoch || parsed.data.index !== index) {
        throw new KauditError('INPUT_INVALID', `checkpoint ${this.#key}: base piece ${index} of ${chunks} (epoch ${epoch}) is missing or unreadable`);
      }
      engine.applyChanges(parsed.data.changes);
      baseBytes += piece?.length ?? 0;
    }
    let nextOffset = head.data.nextOffset;
    let seq = 0;
    let deltaBytes = 0;
    // Deltas were written one at a time, each acknowledged before the next: the valid ones are the
    // unbroken run from 0 tagged with this epoch (anything after is from an older epoch).
    for (;;) {
      const piece = this.#kv.get(this.#deltaKey(slot, seq));
      const parsed = piece ? deltaSchema.safeParse(this.#tryDecode(piece)) : undefined;
      if (!parsed?.success || parsed.data.epoch !== epoch || parsed.data.seq !== seq) break;
      engine.applyChanges(parsed.data.changes);
      nextOffset = parsed.data.nextOffset;
      deltaBytes += piece?.length ?? 0;
      seq++;
    }
    this.#epoch = epoch;
    this.#slot = slot;
    this.#seq = seq;
    this.#baseBytes = baseBytes;
    this.#deltaBytes = deltaBytes;
    return BigInt(nextOffset);
  }

  #tryDecode(raw: Buffer): unknown {
    try {
      return decode(raw);
    } catch {
      return undefined;
    }
  }

  /**
   * Makes `changes` (what the engine changed since the last save) and `nextOffset` durable:
   * normally one delta record; a new base when there is none yet, when the change set alone is
   * bigger than a base piece, or when the deltas have outgrown the base.
   */
  async save(engine: RuleEngine, changes: EngineChanges, nextOffset: bigint): Promise<CheckpointWrite[]> {
    const groups = changedGroups(changes);
    if (this.#epoch === 0 || groups > this.#chunkGroups) return [await this.#writeBase(engine, nextOffset)];
    const value = encode({ epoch: this.#epoch, seq: this.#seq, nextOffset: nextOffset.toString(), changes });
    await this.#kv.putMany([{ key: this.#deltaKey(this.#slot, this.#seq), value }]);
    this.#seq++;
    this.#deltaBytes += value.length;
    const writes: CheckpointWrite[] = [{ kind: 'delta', records: 1, bytes: value.length, groups }];
    if (this.#deltaBytes > Math.max(this.#baseBytes, this.#minCompactBytes) || this.#seq >= this.#maxDeltas) writes.push(await this.#writeBase(engine, nextOffset));
    return writes;
  }

  async #writeBase(engine: RuleEngine, nextOffset: bigint): Promise<CheckpointWrite> {
    // Unique across restarts and instances (wall clock), and always moving forward.
    const epoch = Math.max(this.#epoch + 1, Math.trunc(this.#nowMs()));
    const slot: 0 | 1 = this.#slot === 0 ? 1 : 0;
    const pieces = engine.snapshotChunks(this.#chunkGroups).map((changes, index) => ({ key: this.#chunkKey(slot, index), value: encode({ epoch, index, changes }) }));
    let records = 0;
    let bytes = 0;
    // Into the slot the head does not point at: the current base stays whole until the switch.
    for (let i = 0; i < pieces.length; ) {
      const send: typeof pieces = [];
      let size = 0;
      while (i < pieces.length && (send.length === 0 || size + (pieces[i]?.value.length ?? 0) <= SEND_BYTES)) {
        const piece = pieces[i++] as (typeof pieces)[number];
        send.push(piece);
        size += piece.value.length;
      }
      await this.#kv.putMany(send);
      records += send.length;
      bytes += size;
    }
    const head = encode({ version: 2, epoch, slot, chunks: pieces.length, nextOffset: nextOffset.toString() });
    await this.#kv.putMany([{ key: this.#key, value: head }]);
    records++;
    bytes += head.length;
    // Superseded: the previous base, its deltas, and anything left from an interrupted write.
    const fresh = new Set(pieces.map((p) => p.key));
    const stale = this.#kv.keys(`${this.#key}/`).filter((k) => !fresh.has(k));
    if (stale.length > 0) {
      await this.#kv.putMany(stale.map((key) => ({ key, value: EMPTY })));
      records += stale.length;
    }
    this.#epoch = epoch;
    this.#slot = slot;
    this.#seq = 0;
    this.#baseBytes = bytes;
    this.#deltaBytes = 0;
    return { kind: 'base', records, bytes, groups: engine.stateSize() };
  }
}
