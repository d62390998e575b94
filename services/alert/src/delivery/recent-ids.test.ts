import { describe, expect, it } from 'vitest';
import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  it('keeps the newest ids up to its bound and round-trips through a checkpoint', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    const back = RecentIds.parse(3, ids.toBuffer());
    expect(back?.has('d')).toBe(true);
    expect(back?.has('a')).toBe(false);
  });

  it('reports an unreadable checkpoint instead of throwing', () => {
    expect(RecentIds.parse(3, Buffer.from('{oops'))).toBeUndefined();
    expect(RecentIds.parse(3, Buffer.from('[1,2]'))).toBeUndefined();
  });
});
