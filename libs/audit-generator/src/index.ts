export { auditTraffic, scenarioEvents, buildEvent, createRng, toEventList, DEMO_PEOPLE, type DemoPerson, type GeneratedEvent, type Rng, type Scenario, type TrafficOptions } from './audit-traffic.js';
