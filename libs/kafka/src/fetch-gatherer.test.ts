import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FetchGatherer, type GatherLimits } from './fetch-gatherer.js';

/** A gatherer whose flush records the blocks it got and fails the items named in `fail`. */
function gatherer(limits: Partial<GatherLimits>, fail: (items: readonly string[]) => ReadonlyMap<string, Error> = () => new Map()) {
  const blocks: string[][] = [];
  const g = new FetchGatherer<string>({ maxRows: 1000, maxBytes: 1_000_000, lingerMs: 60_000, lingerBelowRows: 1_000_000, maxHeld: 100, ...limits }, async (items) => {
    blocks.push([...items]);
    return fail(items);
  });
  const join = (item: string, rows = 1, bytes = 10) => g.join({ item, key: item.split('#')[0] ?? item, rows, bytes });
  return { g, join, blocks };
}

describe('FetchGatherer', () => {
  it('cuts once as many fetches wait as the consumer can hand over at once', async () => {
    const { join, blocks } = gatherer({ maxHeld: 3 });
    await Promise.all([join('t:0'), join('t:1'), join('t:2')]);
    expect(blocks).toEqual([['t:0', 't:1', 't:2']]);
  });

  it('cuts at the row and byte limits', async () => {
    const rows = gatherer({ maxRows: 10 });
    await Promise.all([rows.join('t:0', 4), rows.join('t:1', 6)]);
    const bytes = gatherer({ maxBytes: 100 });
    await Promise.all([bytes.join('t:0', 1, 60), bytes.join('t:1', 1, 40)]);
    expect([rows.blocks, bytes.blocks]).toEqual([[['t:0', 't:1']], [['t:0', 't:1']]]);
  });

  it('cuts after the linger when fewer fetches come, and never puts two fetches of one partition in a block', async () => {
    const { join, blocks } = gatherer({ lingerMs: 20 });
    await Promise.all([join('t:0#a'), join('t:1'), join('t:0#b')]);
    expect(blocks).toEqual([['t:0#a', 't:1'], ['t:0#b']]);
  });

  it('does not linger once a burst of fetches brought enough rows, and still gathers the whole burst', async () => {
    const { g, join, blocks } = gatherer({ lingerMs: 60_000, lingerBelowRows: 100 });
    // One fetch response: its batches join in one turn of the event loop (rows 60 + 50 pass the threshold at once).
    const big = Promise.all([join('t:0', 60), join('t:1', 50), join('t:2', 1)]);
    await big;
    // A small block still waits for company (another broker's response) up to the linger.
    const small = join('t:3', 10);
    await sleep(50);
    expect(blocks).toEqual([['t:0', 't:1', 't:2']]);
    await g.drain();
    await small;
    expect(blocks).toEqual([['t:0', 't:1', 't:2'], ['t:3']]);
  });

  it('waits at the end of a burst for a fetch of it that is still in its before() (a wait for a previous owner)', async () => {
    const { g, blocks } = gatherer({ lingerMs: 60_000, lingerBelowRows: 100 });
    const late = g.join({ item: 't:1', key: 't:1', rows: 50, bytes: 1 }, () => sleep(30));
    const first = g.join({ item: 't:0', key: 't:0', rows: 200, bytes: 1 });
    await Promise.all([late, first]);
    expect(blocks).toEqual([['t:0', 't:1']]);
  });

  it('a fetch of the burst still arriving when the linger passes is waited for, not left to a second block', async () => {
    const { g, blocks } = gatherer({ lingerMs: 20 });
    const first = g.join({ item: 't:0', key: 't:0', rows: 1, bytes: 1 });
    const late = g.join({ item: 't:1', key: 't:1', rows: 1, bytes: 1 }, () => sleep(80));
    await Promise.all([first, late]);
    expect(blocks).toEqual([['t:0', 't:1']]);
  });

  it('rejects only the fetches the flush did not store, and every fetch of a block whose flush threw', async () => {
    const { join } = gatherer({ maxHeld: 2 }, (items) => new Map(items.filter((i) => i === 't:1').map((i) => [i, new Error('revoked')])));
    const outcomes = await Promise.allSettled([join('t:0'), join('t:1')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    const broken = new FetchGatherer<string>({ maxRows: 1000, maxBytes: 1_000_000, lingerMs: 0, lingerBelowRows: 1_000_000, maxHeld: 2 }, async () => {
      throw new Error('clickhouse down');
    });
    await expect(broken.join({ item: 'x', key: 'x', rows: 1, bytes: 1 })).rejects.toThrow('clickhouse down');
  });

  it('drain() inserts what waits at once and resolves after the flushes under way', async () => {
    const { g, join, blocks } = gatherer({});
    const waiting = join('t:0');
    await sleep(5);
    expect(blocks).toEqual([]);
    await g.drain();
    await waiting;
    expect(blocks).toEqual([['t:0']]);
  });
});
