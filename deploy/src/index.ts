export { ensureKubeTools, KUBE_TOOL_RELEASES, type KubeToolRelease, type KubeTools } from './kube-tools.js';
export { schemaProblems } from './kube-schema.js';
export { restrictedPodViolations } from './restricted-pod-security.js';
export { lintChart, renderChart, type ChartRun, type Manifest } from './helm-chart.js';
export { unknownFieldProblems } from './kube-strict-fields.js';
