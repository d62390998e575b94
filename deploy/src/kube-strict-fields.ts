import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The Kubernetes OpenAPI schemas allow unknown fields (the API server drops them, often silently), so
 * a misspelt `readOnlyRootFilesytem` would pass a JSON-schema check and never take effect. This is
 * the strict check: each manifest becomes an object literal typed with kubernetes-models' interface
 * for its kind (generated from the same OpenAPI), and TypeScript's excess-property and type checks
 * report every field the API does not define, at any depth.
 */
const TYPES: Readonly<Record<string, { module: string; type: string }>> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', type: 'IServiceAccount' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
  'networking.k8s.io/v1/Ingress': { module: 'kubernetes-models/networking.k8s.io/v1/Ingress', type: 'IIngress' },
  'monitoring.coreos.com/v1/ServiceMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', type: 'IServiceMonitor' },
};

// A file name inside this package, so module resolution finds its node_modules; it is never written.
const VIRTUAL = join(fileURLToPath(new URL('.', import.meta.url)), '__strict-manifests__.ts');

/** Every field of the manifests that their Kubernetes type does not define (or defines otherwise), by manifest. */
export function unknownFieldProblems(manifests: readonly { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }[]): string[] {
  const problems: string[] = [];
  const imports = new Map<string, string>();
  const lines: string[] = [];
  const owners: { start: number; end: number; label: string }[] = [];
  manifests.forEach((m, i) => {
    const key = `${String(m.apiVersion)}/${String(m.kind)}`;
    const label = `${key} ${String(m.metadata?.name)}`;
    const target = TYPES[key];
    if (target === undefined) {
      problems.push(`${label}: no type known for ${key}`);
      return;
    }
    const alias = `T${imports.size}`;
    if (!imports.has(target.module)) imports.set(target.module, alias);
    const body = JSON.stringify(m, null, 1).split('\n');
    owners.push({ start: lines.length, end: lines.length + body.length, label });
    lines.push(`export const m${i}: ${imports.get(target.module)}.${target.type} = ${body[0] ?? ''}`, ...body.slice(1));
  });
  const header = [...imports].map(([module, alias]) => `import type * as ${alias} from '${module}';`);
  const text = [...header, ...lines].join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === VIRTUAL ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === VIRTUAL || fileExists(name);
  const program = ts.createProgram([VIRTUAL], options, host);
  const source = program.getSourceFile(VIRTUAL);
  for (const d of ts.getPreEmitDiagnostics(program, source)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line - header.length : -1;
    const owner = owners.find((o) => line >= o.start && line < o.end);
    problems.push(`${owner?.label ?? 'manifests'}: ${message}`);
  }
  return problems;
}
