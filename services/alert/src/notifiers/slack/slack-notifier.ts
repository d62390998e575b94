import type { AlertRecord } from '@kaudit/audit-schema';
import type { Notifier, NotifierDeps } from '../notifier.js';
import { postJson } from '../post-json.js';
import type { SlackConfig } from './config.js';
import { slackPayload } from './slack-payload.js';

export class SlackNotifier implements Notifier {
  readonly type = 'slack';
  readonly #config: SlackConfig;
  readonly #deps: NotifierDeps;

  constructor(config: SlackConfig, deps: NotifierDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  send(alert: AlertRecord): Promise<void> {
    return postJson(this.#deps, { destination: this.#config.name, url: this.#config.webhookUrl.reveal(), body: JSON.stringify(slackPayload(alert)) });
  }
}
