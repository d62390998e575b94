/** The program behind a request, from its User-Agent: `{ name: 'kubectl', version: 'v1.31.2' }`. */
export interface ParsedClient {
  name: string | null;
  version: string | null;
}

interface ClientRule {
  /** Matched against the whole User-Agent; group 1 (when present) is the version. */
  pattern: RegExp;
  name: string;
}

/**
 * Ordered: the first match wins, so specific tools come before the generic client-go shape they
 * also use (Argo CD and Flux controllers are client-go programs with their own names).
 */
const RULES: readonly ClientRule[] = [
  { pattern: /^kubectl(?:\.exe)?\/(v?[\w.+-]+)/i, name: 'kubectl' },
  { pattern: /^helm\/(v?[\w.+-]+)/i, name: 'helm' },
  { pattern: /^argocd(?:-[\w-]+)?\/(v?[\w.+-]+)/i, name: 'argocd' },
  { pattern: /^(?:flux|kustomize-controller|helm-controller|source-controller|notification-controller|image-reflector-controller|image-automation-controller)\/(v?[\w.+-]+)/i, name: 'flux' },
  { pattern: /\bTerraform\/(v?[\w.+-]+)/, name: 'terraform' },
  { pattern: /^curl\/([\w.+-]+)/i, name: 'curl' },
  { pattern: /\bEdg\/([\w.]+)/, name: 'edge' },
  { pattern: /\bFirefox\/([\w.]+)/, name: 'firefox' },
  { pattern: /\bChrome\/([\w.]+)/, name: 'chrome' },
  { pattern: /\bVersion\/([\w.]+).*\bSafari\//, name: 'safari' },
];

/** client-go's default shape: `<binary>/<version> (<os>/<arch>) kubernetes/<commit>[/<caller>]`. */
const CLIENT_GO = /^([\w.-]+)\/(v?[\w.+-]+) \([\w-]+\/[\w-]+\) kubernetes\/[\w$]+/;
/** Anything else that starts with a product token, e.g. `python-requests/2.31.0`, `Go-http-client/1.1`. */
const PRODUCT = /^([\w.-]+)\/(v?[\w.+-]+)/;

export function parseClient(userAgent: string | undefined): ParsedClient {
  if (!userAgent) return { name: null, version: null };
  for (const rule of RULES) {
    const m = rule.pattern.exec(userAgent);
    if (m) return { name: rule.name, version: m[1] ?? null };
  }
  const m = CLIENT_GO.exec(userAgent) ?? PRODUCT.exec(userAgent);
  if (m) return { name: (m[1] ?? '').toLowerCase(), version: m[2] ?? null };
  return { name: userAgent.slice(0, 64), version: null };
}
