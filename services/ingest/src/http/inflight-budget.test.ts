import { describe, expect, it } from 'vitest';
import { InflightBudget } from './inflight-budget.js';

describe('InflightBudget', () => {
  it('admits requests until the limit and again after release', () => {
    const budget = new InflightBudget(100);
    expect(budget.tryAcquire(60)).toBe(true);
    expect(budget.tryAcquire(50)).toBe(false);
    expect(budget.tryAcquire(40)).toBe(true);
    budget.release(60);
    expect(budget.tryAcquire(50)).toBe(true);
    expect(budget.used).toBe(90);
  });

  it('lets one oversize request in when idle, so it cannot be starved forever', () => {
    const budget = new InflightBudget(10);
    expect(budget.tryAcquire(50)).toBe(true);
    expect(budget.tryAcquire(1)).toBe(false);
  });
});
