import type { ChildProcess } from 'node:child_process';

/** One service `kaudit start` runs: how to launch it and where it says it is ready. */
export interface ServicePlan {
  name: string;
  /** GET answered 200 once the service serves (every service's /readyz). */
  readyUrl: string;
  launch(): LaunchedService;
}

export interface LaunchedService {
  name: string;
  /** Settles with the exit code when the process ends. */
  exited: Promise<number | null>;
}

export interface StartServicesDeps {
  /** True once `url` answers 200; false while it refuses or answers otherwise. */
  probe(url: string): Promise<boolean>;
  sleep(ms: number): Promise<void>;
  out(line: string): void;
  /** Ctrl-C while waiting: stop waiting, the caller stops what was launched. */
  signal?: AbortSignal;
}

export type StartOutcome =
  | { state: 'ready'; services: LaunchedService[] }
  | { state: 'exited'; services: LaunchedService[]; name: string; code: number | null }
  | { state: 'aborted'; services: LaunchedService[] };

/** Between two rounds of readiness probes. */
const PROBE_INTERVAL_MS = 500;
/** Rounds between two "waiting for …" lines (about 10 s), so a slow start says what it is waiting on. */
const ROUNDS_PER_NOTICE = 20;

/**
 * Launches every service of the plan at once, then probes each one's readiness until all answer, and only then
 * calls `announce` — so the `kaudit is running … Ingest: … token: …` block comes after their start-up logs, when
 * the webhook really accepts events (issue 17). A service that exits first, or Ctrl-C, ends the wait without an
 * announcement; the caller stops what was launched either way.
 */
export async function startServices(plan: readonly ServicePlan[], deps: StartServicesDeps, announce: (names: string[]) => void): Promise<StartOutcome> {
  const services = plan.map((p) => p.launch());
  // Set by the exit callbacks while this loop awaits; read through a function, which the compiler does not narrow.
  let firstExit: { name: string; code: number | null } | undefined;
  for (const s of services) void s.exited.then((code) => (firstExit ??= { name: s.name, code }));
  const exited = (): StartOutcome | undefined => (firstExit ? { state: 'exited', services, ...firstExit } : undefined);
  const waiting = new Set(plan);
  for (let round = 1; ; round += 1) {
    const early = exited();
    if (early) return early;
    if (deps.signal?.aborted) return { state: 'aborted', services };
    const answers = await Promise.all([...waiting].map(async (p) => ({ p, ready: await deps.probe(p.readyUrl) })));
    for (const a of answers) if (a.ready) waiting.delete(a.p);
    // An exit seen while probing wins over readiness: a service that answered and died is not running.
    const died = exited();
    if (died) return died;
    if (waiting.size === 0) break;
    if (round % ROUNDS_PER_NOTICE === 0) deps.out(`waiting for ${[...waiting].map((p) => `${p.name} (${p.readyUrl})`).join(', ')}…`);
    await deps.sleep(PROBE_INTERVAL_MS);
  }
  announce(services.map((s) => s.name));
  return { state: 'ready', services };
}

/**
 * Stops the services one after the other, in the order given (the pipeline's: ingest stops accepting first, then
 * each consumer drains what is upstream of it): SIGTERM, and SIGKILL if one is still there after `killAfterMs`.
 */
export async function stopInOrder(children: readonly { name: string; child: ChildProcess }[], onStopped: (name: string) => void, killAfterMs = 15_000): Promise<void> {
  for (const { name, child } of children) {
    // Gone already — exited, or killed by a signal (exitCode stays null then): its exit event has passed.
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    await exited;
    clearTimeout(timer);
    onStopped(name);
  }
}
