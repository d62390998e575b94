import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Secret, Service, ServiceAccount, ConfigMap } from 'kubernetes-models/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

/** A model class of kubernetes-models: its validate() runs the ajv validator compiled from the Kubernetes OpenAPI schema. */
interface KubeModel {
  new (data: never): { validate(): void };
}

/**
 * The kinds kaudit's manifests may contain, each with the schema it is checked against. A kind not
 * listed here is an error, not a pass: adding a kind to the chart means adding its schema here.
 */
const MODELS: Readonly<Record<string, KubeModel>> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** One manifest's problems against its Kubernetes JSON schema (empty when it is valid). */
export function schemaProblems(manifest: unknown): string[] {
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return ['not an object'];
  const { apiVersion, kind } = manifest as { apiVersion?: unknown; kind?: unknown };
  const key = `${String(apiVersion)}/${String(kind)}`;
  const Model = MODELS[key];
  if (Model === undefined) return [`no schema known for ${key}`];
  try {
    new Model(manifest as never).validate();
    return [];
  } catch (err) {
    return [`${key}: ${(err as Error).message}`];
  }
}
