/**
 * Usernames AKS's own control plane uses (the managed apiserver's client, node bootstrap, support
 * and problem-detector tooling). They carry no `system:` prefix, so without this list they would
 * be taken for people (issue 15 §3).
 */
export const AKS_SYSTEM_USERS: ReadonlySet<string> = new Set(['aksService', 'masterclient', 'nodeclient', 'aks-support', 'aksProblemDetector']);
