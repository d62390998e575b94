import { describe, expect, it } from 'vitest';
import { routeSchema } from '../notifiers/destination-config.js';
import { sampleAlert } from '../notifiers/test-helpers/sample-alert.js';
import { routeMatches } from './route-matches.js';

const route = (r: unknown) => routeSchema.parse(r);

describe('routeMatches', () => {
  const alert = sampleAlert({ severity: 'high', ruleId: 'falco-privileged-pod', tags: ['T1611'], cluster: 'prod-eu-1', ownerTeam: 'web' });

  it('an empty route takes everything', () => {
    expect(routeMatches(route({}), alert)).toBe(true);
  });

  it('routes by severity, rule (with wildcards), tag, cluster and owning team', () => {
    expect(routeMatches(route({ minSeverity: 'high' }), alert)).toBe(true);
    expect(routeMatches(route({ minSeverity: 'critical' }), alert)).toBe(false);
    expect(routeMatches(route({ rules: ['falco-*'] }), alert)).toBe(true);
    expect(routeMatches(route({ rules: ['sigma-*'] }), alert)).toBe(false);
    expect(routeMatches(route({ tags: ['T1609', 'T1611'] }), alert)).toBe(true);
    expect(routeMatches(route({ clusters: ['prod-*'] }), alert)).toBe(true);
    expect(routeMatches(route({ clusters: ['staging'] }), alert)).toBe(false);
    expect(routeMatches(route({ teams: ['web'] }), alert)).toBe(true);
    expect(routeMatches(route({ teams: ['platform'] }), alert)).toBe(true); // the actor's team
    expect(routeMatches(route({ teams: ['data'] }), alert)).toBe(false);
  });

  it('info alerts (the activity trail) go only where a route asks for them with minSeverity: info (issue 15 §2)', () => {
    const info = sampleAlert({ severity: 'info', ruleId: 'falco-k8s-activity-created', cluster: 'prod-eu-1' });
    expect(routeMatches(route({}), info)).toBe(false);
    expect(routeMatches(route({ rules: ['falco-*'] }), info)).toBe(false);
    expect(routeMatches(route({ minSeverity: 'low' }), info)).toBe(false);
    expect(routeMatches(route({ minSeverity: 'info' }), info)).toBe(true);
    expect(routeMatches(route({ minSeverity: 'info', clusters: ['prod-*'] }), info)).toBe(true);
  });

  it('every given criterion must hold', () => {
    expect(routeMatches(route({ minSeverity: 'medium', clusters: ['staging'] }), alert)).toBe(false);
  });
});
