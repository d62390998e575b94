/**
 * The LZ4 and ZSTD codecs kafkajs lacks (it ships gzip only), in the shape kafkajs calls: `compress`
 * gets its Encoder (only the bytes matter), `decompress` a batch's records section. Both libraries ship
 * their native binaries as npm platform packages (napi-rs), so installing needs no compiler or download.
 */
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { compressFrame, decompressFrame } from 'lz4-napi';

export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** zstd's own default level: Kafka's producer default too (compression.zstd.level=3). */
const ZSTD_LEVEL = 3;

/** Kafka's LZ4 (record batch v2) is the standard LZ4 frame format, which the broker's lz4-java reads. */
export const lz4Codec: KafkaCodec = {
  compress: (encoder) => compressFrame(encoder.buffer),
  decompress: (buffer) => decompressFrame(buffer),
};

export const zstdCodec: KafkaCodec = {
  compress: (encoder) => zstdCompress(encoder.buffer, ZSTD_LEVEL),
  decompress: (buffer) => zstdDecompress(buffer),
};
