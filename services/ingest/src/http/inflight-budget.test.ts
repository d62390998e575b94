import { describe, expect, it } from 'vitest';
import { InflightBudget } from './inflight-budget.js';

describe('InflightBudget', () => {
  it('admits requests until the limit and again after release', () => {
    const budget = new InflightBudget(100);
    expect(budget.tryAcquire('a', 60)).toBe(true);
    expect(budget.tryAcquire('a', 50)).toBe(false);
    expect(budget.tryAcquire('a', 40)).toBe(true);
    budget.release('a', 60);
    expect(budget.tryAcquire('a', 50)).toBe(true);
    expect(budget.used).toBe(90);
  });

  it('lets one oversize request in when idle, so it cannot be starved forever', () => {
    const budget = new InflightBudget(10);
    expect(budget.tryAcquire('a', 50)).toBe(true);
    expect(budget.tryAcquire('a', 1)).toBe(false);
  });

  it('keeps one cluster to its share, so the others still get in', () => {
    const budget = new InflightBudget(100, 25);
    expect(budget.tryAcquire('busy', 20)).toBe(true);
    expect(budget.tryAcquire('busy', 20)).toBe(false);
    expect(budget.tryAcquire('other', 25)).toBe(true);
    expect(budget.tryAcquire('third', 25)).toBe(true);
    expect(budget.usedBy('busy')).toBe(20);
    budget.release('busy', 20);
    expect(budget.usedBy('busy')).toBe(0);
    // A body larger than the share still gets in while its cluster has nothing in flight.
    expect(budget.tryAcquire('busy', 40)).toBe(true);
    expect(budget.tryAcquire('busy', 1)).toBe(false);
    expect(budget.used).toBe(90);
  });
});
