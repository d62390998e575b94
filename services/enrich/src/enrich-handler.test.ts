import { describe, expect, it } from 'vitest';
import { chunkBySize } from './enrich-handler.js';

describe('chunkBySize', () => {
  it('keeps order, respects the limit, and lets an oversize item travel alone', () => {
    expect(chunkBySize([3, 3, 3, 10, 1], (n) => n, 6)).toEqual([[3, 3], [3], [10], [1]]);
    expect(chunkBySize([], (n: number) => n, 6)).toEqual([]);
  });
});
