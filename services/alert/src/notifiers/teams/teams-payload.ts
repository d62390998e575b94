import type { AlertRecord } from '@kaudit/audit-schema';
import { alertFacts, followUpNote, titlePrefix } from '../alert-facts.js';

const COLOR: Record<AlertRecord['severity'], string> = { critical: 'Attention', high: 'Attention', medium: 'Warning', low: 'Accent', info: 'Default' };

/**
 * A message carrying one Adaptive Card attachment, the format Teams webhooks accept
 * (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook).
 * Card version 1.4: the highest Teams renders everywhere.
 */
export function teamsPayload(alert: AlertRecord) {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            { type: 'TextBlock', text: `${titlePrefix(alert)}${alert.severity.toUpperCase()}: ${alert.ruleName}`, weight: 'Bolder', size: 'Medium', color: COLOR[alert.severity], wrap: true },
            { type: 'TextBlock', text: alert.summary, wrap: true },
            { type: 'FactSet', facts: alertFacts(alert) },
            ...(alert.followUp ? [{ type: 'TextBlock', text: followUpNote(alert) ?? '', isSubtle: true, size: 'Small', wrap: true }] : []),
            { type: 'TextBlock', text: `rule ${alert.ruleId} · alert ${alert.alertId}${alert.tags.length ? ` · ${alert.tags.join(', ')}` : ''}`, isSubtle: true, size: 'Small', wrap: true },
          ],
        },
      },
    ],
  };
}
