import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The reference of every service's environment: one table per service, and one for what all of them read. */
export const SERVICES_DOC = fileURLToPath(new URL('../../../docs/services.md', import.meta.url));
const SHARED_HEADING = 'Every service';
const ENV_NAME = /`([A-Z][A-Z0-9_]*)`/g;

/** The env names in the first column of the tables under `### <heading>` (up to the next heading). */
export function documentedEnv(markdown: string, heading: string): Set<string> {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === `### ${heading}`);
  if (start < 0) return new Set();
  const names = new Set<string>();
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(ENV_NAME)) if (m[1]) names.add(m[1]);
  }
  return names;
}

export interface EnvDocsDrift {
  /** Read by the service's config, in neither its table nor the shared one. */
  undocumented: string[];
  /** In the service's table (or the shared one) but not read by its config. */
  notRead: string[];
}

/**
 * How docs/services.md and a service's env map (`INGEST_ENV`, …: every variable its config reads) disagree, so
 * a test beside each config keeps the docs from drifting either way.
 */
export function serviceEnvDocsDrift(service: string, envMap: Readonly<Record<string, string>>, markdown = readFileSync(SERVICES_DOC, 'utf8')): EnvDocsDrift {
  const read = new Set(Object.values(envMap));
  const own = documentedEnv(markdown, service);
  const shared = documentedEnv(markdown, SHARED_HEADING);
  return {
    undocumented: [...read].filter((v) => !own.has(v) && !shared.has(v)).sort(),
    notRead: [...new Set([...own, ...shared])].filter((v) => !read.has(v)).sort(),
  };
}
