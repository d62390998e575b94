import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { KauditError } from '@kaudit/errors';

const run = promisify(execFile);

export interface ChartRun {
  helm: string;
  chartDir: string;
  release?: string;
  namespace?: string;
  valuesFiles?: readonly string[];
  set?: Readonly<Record<string, string>>;
}

/** A rendered manifest: its kind and name, and the object itself. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function valueArgs(o: ChartRun): string[] {
  return [...(o.valuesFiles ?? []).flatMap((f) => ['--values', f]), ...Object.entries(o.set ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
}

/** `helm lint --strict`: its output, or a KauditError carrying it when the chart fails. */
export async function lintChart(o: ChartRun): Promise<string> {
  try {
    const { stdout } = await run(o.helm, ['lint', o.chartDir, '--strict', ...valueArgs(o)], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new KauditError('CONFIG_INVALID', `helm lint failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/** `helm template`, parsed: every non-empty YAML document (hooks included), in order. */
export async function renderChart(o: ChartRun): Promise<Manifest[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(
      o.helm,
      ['template', o.release ?? 'kaudit', o.chartDir, '--namespace', o.namespace ?? 'audit', ...valueArgs(o)],
      { maxBuffer: 64 * 1024 * 1024 },
    ));
  } catch (err) {
    const e = err as { stderr?: string };
    throw new KauditError('CONFIG_INVALID', `helm template failed: ${e.stderr ?? String(err)}`, { cause: err });
  }
  const docs = parseAllDocuments(stdout);
  if (!Array.isArray(docs)) throw new KauditError('CONFIG_INVALID', 'helm template printed no YAML documents');
  const out: Manifest[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KauditError('CONFIG_INVALID', `helm template printed invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value as Manifest);
  }
  return out;
}
