import type { AlertRecord } from '@kaudit/audit-schema';
import { alertFacts, followUpNote, titlePrefix, truncate } from '../alert-facts.js';

const ICON: Record<AlertRecord['severity'], string> = { critical: ':rotating_light:', high: ':red_circle:', medium: ':large_orange_circle:', low: ':large_yellow_circle:', info: ':large_blue_circle:' };

/** Escapes the three characters Slack mrkdwn treats as control characters. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Block Kit message for an incoming webhook (https://api.slack.com/reference/block-kit/blocks):
 * header ≤ 150 chars, section text ≤ 3000, ≤ 10 fields; `text` is the notification fallback.
 */
export function slackPayload(alert: AlertRecord) {
  const title = `${titlePrefix(alert)}${alert.severity.toUpperCase()}: ${alert.ruleName}`;
  return {
    text: truncate(`${title} — ${alert.summary}`, 3000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(`${ICON[alert.severity]} ${esc(alert.summary)}`, 3000) } },
      { type: 'section', fields: alertFacts(alert).map((f) => ({ type: 'mrkdwn', text: truncate(`*${f.title}*\n${esc(f.value)}`, 2000) })) },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: truncate(`rule \`${alert.ruleId}\` · alert \`${alert.alertId}\`${alert.tags.length ? ` · ${alert.tags.join(', ')}` : ''}`, 3000) },
          ...(alert.followUp ? [{ type: 'mrkdwn', text: truncate(esc(followUpNote(alert) ?? ''), 3000) }] : []),
        ],
      },
    ],
  };
}
