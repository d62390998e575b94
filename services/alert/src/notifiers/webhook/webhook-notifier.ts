import type { AlertRecord } from '@kaudit/audit-schema';
import type { Notifier, NotifierDeps } from '../notifier.js';
import { postJson } from '../post-json.js';
import type { WebhookConfig } from './config.js';
import { webhookRequest } from './webhook-payload.js';

export class WebhookNotifier implements Notifier {
  readonly type = 'webhook';
  readonly #config: WebhookConfig;
  readonly #deps: NotifierDeps;

  constructor(config: WebhookConfig, deps: NotifierDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  send(alert: AlertRecord): Promise<void> {
    const { body, headers } = webhookRequest(alert, this.#config.hmacSecret?.reveal(), this.#deps.nowMs());
    return postJson(this.#deps, { destination: this.#config.name, url: this.#config.url.reveal(), body, headers: { ...this.#config.headers, ...headers } });
  }
}
