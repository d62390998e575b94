export { Lifecycle, type Component, type LifecycleOptions } from './lifecycle.js';
export { registerHealthRoutes, registerProbeRoutes, HealthServer, type HealthOptions, type ReadinessCheck } from './health-server.js';
export { runUntilSignal, type SignalSource } from './run-until-signal.js';
export { WarmUp, type WarmUpOptions, type WarmUpRound } from './warm-up.js';
export { growOldGeneration, OLD_GENERATION_GROWTH_PERCENT } from './grow-old-generation.js';
export { ServiceFailure } from './service-failure.js';
