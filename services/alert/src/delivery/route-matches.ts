import { SEVERITIES, type AlertRecord } from '@kaudit/audit-schema';
import type { Route } from '../notifiers/destination-config.js';
import { globToRegex } from '../rules/glob-to-regex.js';

/** Whether an alert goes to a destination with this route (every given criterion must hold). */
export function routeMatches(route: Route, alert: AlertRecord): boolean {
  // `info` is the activity trail (Falco's informational rules): stored, but sent only where a route
  // asks for it explicitly, so a default destination is not flooded (issue 15 §2).
  if (alert.severity === 'info' && route.minSeverity !== 'info') return false;
  if (route.minSeverity !== undefined && SEVERITIES.indexOf(alert.severity) < SEVERITIES.indexOf(route.minSeverity)) return false;
  if (route.rules !== undefined && !route.rules.some((r) => globToRegex(r).test(alert.ruleId))) return false;
  if (route.tags !== undefined && !route.tags.some((t) => alert.tags.includes(t))) return false;
  if (route.clusters !== undefined && !route.clusters.some((c) => globToRegex(c).test(alert.cluster))) return false;
  if (route.teams !== undefined) {
    const teams = [alert.ownerTeam, alert.actor.team].filter((t): t is string => t !== null);
    if (!route.teams.some((t) => teams.includes(t))) return false;
  }
  return true;
}
