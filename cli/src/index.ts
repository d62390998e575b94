export { buildProgram, type CliDeps } from './build-program.js';
export { setupPipeline, type SetupTarget } from './commands/setup-command.js';
export { webhookKubeconfig, webhookUrl, apiserverFlags, type WebhookAuth, type WebhookKubeconfigOptions } from './commands/webhook-kubeconfig.js';
export { teamUsersFromEnv, type TeamUsersTarget } from './commands/team-users.js';
export { addClusterEntry, type ClusterCredential } from './commands/add-cluster-entry.js';
