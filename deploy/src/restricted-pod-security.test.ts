import { describe, expect, it } from 'vitest';
import { restrictedPodViolations } from './restricted-pod-security.js';

/** A pod that meets the restricted profile, written from the Pod Security Standards page. */
const compliant = () => ({
  automountServiceAccountToken: false,
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'app',
      image: 'example/app:1',
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      ports: [{ containerPort: 8080 }],
    },
  ],
  volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'conf', secret: { secretName: 's' } }],
});

type Pod = ReturnType<typeof compliant> & Record<string, unknown>;
const first = (p: Pod) => p.containers[0] as Record<string, unknown> & { securityContext: Record<string, unknown> };

describe('restrictedPodViolations', () => {
  it('passes a pod that meets the restricted profile', () => {
    expect(restrictedPodViolations(compliant())).toEqual([]);
  });

  const breaches: [string, (p: Pod) => void, RegExp][] = [
    ['a host namespace', (p) => (p.hostNetwork = true), /hostNetwork/],
    ['a mounted service-account token', (p) => delete (p as Partial<Pod>).automountServiceAccountToken, /automountServiceAccountToken/],
    ['a hostPath volume', (p) => p.volumes.push({ name: 'h', hostPath: { path: '/' } } as never), /type hostPath/],
    ['a privileged container', (p) => (first(p).securityContext.privileged = true), /privileged/],
    ['privilege escalation', (p) => delete first(p).securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation/],
    ['capabilities not dropped', (p) => (first(p).securityContext.capabilities = {}), /drop must include ALL/],
    ['an added capability', (p) => (first(p).securityContext.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] }), /SYS_ADMIN/],
    ['root allowed', (p) => delete (p.securityContext as Partial<Pod['securityContext']>).runAsNonRoot, /runAsNonRoot/],
    ['uid 0', (p) => (first(p).securityContext.runAsUser = 0), /runAsUser must not be 0/],
    ['no seccomp profile', (p) => delete (p.securityContext as Partial<Pod['securityContext']>).seccompProfile, /seccompProfile/],
    ['an unconfined seccomp profile', (p) => (first(p).securityContext.seccompProfile = { type: 'Unconfined' }), /seccompProfile/],
    ['a host port', (p) => (first(p).ports = [{ containerPort: 80, hostPort: 80 }]), /hostPort/],
    ['an unsafe sysctl', (p) => ((p.securityContext as Record<string, unknown>).sysctls = [{ name: 'kernel.msgmax', value: '1' }]), /kernel.msgmax/],
    ['a writable root filesystem', (p) => delete first(p).securityContext.readOnlyRootFilesystem, /readOnlyRootFilesystem/],
    ['an unmasked /proc', (p) => (first(p).securityContext.procMount = 'Unmasked'), /procMount/],
  ];
  it.each(breaches)('names %s', (_what, breach, expected) => {
    const pod = compliant() as Pod;
    breach(pod);
    const violations = restrictedPodViolations(pod);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.join('\n')).toMatch(expected);
  });

  it('checks init containers too', () => {
    const pod = { ...compliant(), initContainers: [{ name: 'init', image: 'x' }] };
    expect(restrictedPodViolations(pod).join('\n')).toMatch(/initContainers\[init\]: allowPrivilegeEscalation/);
  });
});
