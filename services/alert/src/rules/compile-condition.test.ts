import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { loadRuleSources } from './load-rules.js';

const LISTS = `lists:
  internal_networks: [10.0.0.0/8, 192.168.0.0/16, "fd00::/8"]
`;

function load(condition: string) {
  return loadRuleSources([{ file: 'rules/x.yaml', text: `${LISTS}rules:\n  - id: r\n    name: r\n    severity: low\n    output: x\n    match: ${condition}\n` }]);
}

function matcher(condition: string): (sourceIPs: string[]) => boolean {
  const { rules, problems } = load(condition);
  expect(problems).toEqual([]);
  const rule = rules[0] as NonNullable<(typeof rules)[0]>;
  return (sourceIPs) => rule.match(sampleAuditRecord({ sourceIPs }));
}

describe('the cidr operator (issue 15 §2)', () => {
  it('matches an address inside any listed network, IPv4 and IPv6', () => {
    const internal = matcher('{ field: sourceIPs, cidr: [{ list: internal_networks }] }');
    expect(internal(['10.1.2.3'])).toBe(true);
    expect(internal(['192.168.255.1'])).toBe(true);
    expect(internal(['fd12:3456::1'])).toBe(true);
    expect(internal(['203.0.113.9'])).toBe(false);
    expect(internal(['11.0.0.1'])).toBe(false);
    expect(internal(['2001:db8::1'])).toBe(false);
    // Any element of an array field, as for the other operators.
    expect(internal(['203.0.113.9', '10.0.0.1'])).toBe(true);
    // What is not an address is in no network.
    expect(internal(['not-an-ip', ''])).toBe(false);
    expect(internal([])).toBe(false);
  });

  it('a bare address is a /32 (or /128), and literals mix with lists', () => {
    const one = matcher('{ field: sourceIPs, cidr: ["198.51.100.7", { list: internal_networks }] }');
    expect(one(['198.51.100.7'])).toBe(true);
    expect(one(['198.51.100.8'])).toBe(false);
  });

  it('names a malformed network when loading', () => {
    const { problems } = load('{ field: sourceIPs, cidr: ["10.0.0.0/33", "300.1.1.1/8", "banana"] }');
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining('"10.0.0.0/33" is not a CIDR') as unknown,
      expect.stringContaining('"300.1.1.1/8" is not a CIDR') as unknown,
      expect.stringContaining('"banana" is not a CIDR') as unknown,
    ]);
  });
});
