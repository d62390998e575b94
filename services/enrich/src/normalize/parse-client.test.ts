import { describe, expect, it } from 'vitest';
import { parseClient } from './parse-client.js';

describe('parseClient', () => {
  it.each([
    ['kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46', 'kubectl', 'v1.31.2'],
    ['kubectl.exe/v1.29.1 (windows/amd64) kubernetes/bc401b9', 'kubectl', 'v1.29.1'],
    ['Helm/3.14.2', 'helm', '3.14.2'],
    ['helm/v3.15.0 (linux/amd64) kubernetes/$Format', 'helm', 'v3.15.0'],
    ['argocd-application-controller/v2.11.3+9a9cb4b (linux/amd64) kubernetes/$Format', 'argocd', 'v2.11.3+9a9cb4b'],
    ['kustomize-controller/v1.3.0 (linux/amd64) kubernetes/$Format', 'flux', 'v1.3.0'],
    ['flux/v2.3.0 (linux/arm64) kubernetes/$Format', 'flux', 'v2.3.0'],
    ['HashiCorp/1.0 Terraform/1.7.5', 'terraform', '1.7.5'],
    ['kube-controller-manager/v1.31.1 (linux/amd64) kubernetes/948afe5/system:serviceaccount:kube-system:deployment-controller', 'kube-controller-manager', 'v1.31.1'],
    ['kube-scheduler/v1.30.4 (linux/amd64) kubernetes/a51b3b7/leader-election', 'kube-scheduler', 'v1.30.4'],
    ['cluster-autoscaler/v1.29.0 (linux/amd64) kubernetes/$Format', 'cluster-autoscaler', 'v1.29.0'],
    ['curl/8.5.0', 'curl', '8.5.0'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', 'chrome', '124.0.0.0'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0', 'firefox', '126.0'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80', 'edge', '124.0.2478.80'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'safari', '17.5'],
    ['python-requests/2.31.0', 'python-requests', '2.31.0'],
  ])('%s → %s %s', (ua, name, version) => {
    expect(parseClient(ua)).toEqual({ name, version });
  });

  it('is null without a user agent', () => {
    expect(parseClient(undefined)).toEqual({ name: null, version: null });
  });
});
