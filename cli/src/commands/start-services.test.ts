import { describe, expect, it } from 'vitest';
import { startServices, type LaunchedService, type ServicePlan, type StartServicesDeps } from './start-services.js';

/**
 * Four fake services that each become ready after their own number of probes; the journal records, in order,
 * every launch, every probe answer and the announcement, so the test reads what happened before what.
 */
function fixture(readyAfterProbes: Record<string, number>, exits: Record<string, number> = {}) {
  const journal: string[] = [];
  const probes = new Map<string, number>();
  const exitNow = new Map<string, (code: number) => void>();
  const plan: ServicePlan[] = Object.keys(readyAfterProbes).map((name) => ({
    name,
    readyUrl: `http://svc/${name}/readyz`,
    launch: (): LaunchedService => {
      journal.push(`launch ${name}`);
      return { name, exited: new Promise<number | null>((resolve) => exitNow.set(name, resolve)) };
    },
  }));
  let rounds = 0;
  const deps: StartServicesDeps = {
    probe: async (url) => {
      const name = url.split('/')[3] ?? '';
      const n = (probes.get(name) ?? 0) + 1;
      probes.set(name, n);
      const ready = n >= (readyAfterProbes[name] ?? Infinity);
      journal.push(`${name} ${ready ? 'ready' : 'not ready'}`);
      return ready;
    },
    sleep: async () => {
      rounds += 1;
      for (const [name, round] of Object.entries(exits)) if (round === rounds) exitNow.get(name)?.(1);
      await new Promise((r) => setImmediate(r));
    },
    out: (line) => journal.push(`out ${line}`),
  };
  return { plan, deps, journal };
}

describe('startServices', () => {
  it('announces (the Ingest/token block) only once every service answered its readiness probe', async () => {
    const { plan, deps, journal } = fixture({ ingest: 2, enrich: 1, sink: 4, alert: 3 });
    const outcome = await startServices(plan, deps, (names) => journal.push(`announce ${names.join(',')}`));
    expect(outcome.state).toBe('ready');
    const announced = journal.indexOf('announce ingest,enrich,sink,alert');
    expect(announced).toBeGreaterThan(0);
    for (const name of ['ingest', 'enrich', 'sink', 'alert']) {
      const firstReady = journal.indexOf(`${name} ready`);
      expect(firstReady, `${name} was ready before the announcement`).toBeGreaterThan(-1);
      expect(firstReady).toBeLessThan(announced);
    }
    // Every service was launched before any waiting, so they start in parallel.
    expect(journal.slice(0, 4)).toEqual(['launch ingest', 'launch enrich', 'launch sink', 'launch alert']);
    // A ready service is not asked again.
    expect(journal.filter((l) => l === 'enrich ready')).toHaveLength(1);
  });

  it('does not announce when a service exits before it is ready, and names it', async () => {
    const { plan, deps, journal } = fixture({ ingest: 1, enrich: 1, sink: Infinity, alert: 1 }, { sink: 2 });
    const outcome = await startServices(plan, deps, (names) => journal.push(`announce ${names.join(',')}`));
    expect(outcome).toMatchObject({ state: 'exited', name: 'sink', code: 1 });
    expect(journal.some((l) => l.startsWith('announce'))).toBe(false);
  });

  it('stops waiting at Ctrl-C without announcing', async () => {
    const { plan, deps, journal } = fixture({ ingest: 1, enrich: 1, sink: Infinity, alert: 1 });
    const stop = new AbortController();
    const sleep = deps.sleep;
    let rounds = 0;
    const outcome = await startServices(plan, { ...deps, signal: stop.signal, sleep: async (ms) => { rounds += 1; if (rounds === 3) stop.abort(); await sleep(ms); } }, (names) => journal.push(`announce ${names.join(',')}`));
    expect(outcome.state).toBe('aborted');
    expect(outcome.services.map((s) => s.name)).toEqual(['ingest', 'enrich', 'sink', 'alert']);
    expect(journal.some((l) => l.startsWith('announce'))).toBe(false);
  });

  it('says which services it is still waiting for while one takes long', async () => {
    const { plan, deps, journal } = fixture({ ingest: 1, enrich: 1, sink: 45, alert: 1 });
    await startServices(plan, deps, (names) => journal.push(`announce ${names.join(',')}`));
    expect(journal).toContain('out waiting for sink (http://svc/sink/readyz)…');
    expect(journal.filter((l) => l.startsWith('out waiting for'))).not.toContain('out waiting for ingest (http://svc/ingest/readyz)…');
  });
});
