/**
 * The "restricted" Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards),
 * checked on a rendered pod spec the way the PodSecurity admission controller checks it, plus the two
 * settings kaudit promises beyond it (read-only root filesystem, no service-account token).
 */

type Json = Record<string, unknown>;

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

function obj(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Every violation of the restricted profile (and of kaudit's own additions), each naming where it is. */
export function restrictedPodViolations(podSpecValue: unknown): string[] {
  const spec = obj(podSpecValue);
  const out: string[] = [];
  const podSc = obj(spec.securityContext);
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) out.push(`spec.${field} must not be true`);
  }
  if (spec.automountServiceAccountToken !== false) out.push('spec.automountServiceAccountToken must be false (kaudit never calls the API)');
  for (const v of list(spec.volumes)) {
    const volume = obj(v);
    const types = Object.keys(volume).filter((k) => k !== 'name');
    for (const t of types) if (!ALLOWED_VOLUME_TYPES.has(t)) out.push(`volume ${String(volume.name)}: type ${t} is not allowed`);
  }
  for (const s of list(podSc.sysctls)) {
    const name = String(obj(s).name);
    if (!SAFE_SYSCTLS.has(name)) out.push(`spec.securityContext.sysctls: ${name} is not a safe sysctl`);
  }
  const podSeccomp = obj(podSc.seccompProfile).type;
  const podSelinux = obj(podSc.seLinuxOptions);
  if (podSc.runAsUser === 0) out.push('spec.securityContext.runAsUser must not be 0');
  if (podSelinux.type !== undefined && !SELINUX_TYPES.has(String(podSelinux.type))) out.push('spec.securityContext.seLinuxOptions.type is not allowed');
  if (podSelinux.user !== undefined || podSelinux.role !== undefined) out.push('spec.securityContext.seLinuxOptions user/role must not be set');
  const appArmor = obj(podSc.appArmorProfile).type;
  if (appArmor !== undefined && appArmor !== 'RuntimeDefault' && appArmor !== 'Localhost') out.push('spec.securityContext.appArmorProfile must be RuntimeDefault or Localhost');
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') out.push('spec.securityContext.seccompProfile must be RuntimeDefault or Localhost');

  const containers = [
    ...list(spec.initContainers).map((c) => ['initContainers', c] as const),
    ...list(spec.containers).map((c) => ['containers', c] as const),
    ...list(spec.ephemeralContainers).map((c) => ['ephemeralContainers', c] as const),
  ];
  if (list(spec.containers).length === 0) out.push('spec.containers is empty');
  for (const [kind, c] of containers) {
    const container = obj(c);
    const at = `${kind}[${String(container.name)}]`;
    const sc = obj(container.securityContext);
    if (sc.privileged === true) out.push(`${at}: privileged must not be true`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation must be false`);
    const caps = obj(sc.capabilities);
    if (!list(caps.drop).includes('ALL')) out.push(`${at}: capabilities.drop must include ALL`);
    for (const add of list(caps.add)) if (add !== 'NET_BIND_SERVICE') out.push(`${at}: capability ${String(add)} must not be added`);
    const runAsNonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (runAsNonRoot !== true) out.push(`${at}: runAsNonRoot must be true (container or pod)`);
    if (sc.runAsUser === 0) out.push(`${at}: runAsUser must not be 0`);
    const seccomp = obj(sc.seccompProfile).type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${at}: seccompProfile must be RuntimeDefault or Localhost (container or pod)`);
    const cAppArmor = obj(sc.appArmorProfile).type;
    if (cAppArmor !== undefined && cAppArmor !== 'RuntimeDefault' && cAppArmor !== 'Localhost') out.push(`${at}: appArmorProfile must be RuntimeDefault or Localhost`);
    const selinux = obj(sc.seLinuxOptions);
    if (selinux.type !== undefined && !SELINUX_TYPES.has(String(selinux.type))) out.push(`${at}: seLinuxOptions.type is not allowed`);
    if (selinux.user !== undefined || selinux.role !== undefined) out.push(`${at}: seLinuxOptions user/role must not be set`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${at}: procMount must be Default`);
    if (sc.windowsOptions !== undefined && obj(sc.windowsOptions).hostProcess === true) out.push(`${at}: windowsOptions.hostProcess must not be true`);
    for (const p of list(container.ports)) {
      const hostPort = obj(p).hostPort;
      if (hostPort !== undefined && hostPort !== 0) out.push(`${at}: hostPort ${String(hostPort)} is not allowed`);
    }
    // kaudit's own promise: nothing writes to the image; writable paths are emptyDir mounts.
    if (sc.readOnlyRootFilesystem !== true) out.push(`${at}: readOnlyRootFilesystem must be true`);
  }
  return out;
}
