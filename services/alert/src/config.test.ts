import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseNotifiers } from './config.js';

const EXAMPLE = fileURLToPath(new URL('../../../deploy/notifiers.example.yaml', import.meta.url));
const env = {
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
  TEAMS_WEBHOOK_URL: 'https://example.webhook.office.com/x',
  PAGERDUTY_ROUTING_KEY: 'R0123456789abcdef0123456789abcde',
  OPSGENIE_API_KEY: 'k',
  SIEM_WEBHOOK_URL: 'https://siem.example.com/hook',
  SIEM_WEBHOOK_SECRET: 's',
};

describe('notifiers file', () => {
  it('the shipped example parses, with per-type rate-limit defaults', () => {
    const notifiers = parseNotifiers(parse(readFileSync(EXAMPLE, 'utf8')), env, EXAMPLE);
    expect(notifiers.map((n) => [n.type, n.rateLimit.perSecond])).toEqual([
      ['slack', 1],
      ['teams', 1],
      ['pagerduty', 2],
      ['opsgenie', 5],
      ['webhook', 20],
    ]);
    // Secrets never print.
    expect(JSON.stringify(notifiers)).not.toContain('hooks.slack.com');
  });

  it('lists every problem at once: unset variables, unknown types, duplicate names', () => {
    const raw = { notifiers: [{ name: 'a', type: 'slack', webhookUrl: '${NOPE}' }, { name: 'a', type: 'carrier-pigeon' }] };
    expect(() => parseNotifiers(raw, {}, 'n.yaml')).toThrow(/NOPE is not set[\s\S]*notifiers\.1\.type/);
  });
});
