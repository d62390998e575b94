import type { AlertRecord } from '@kaudit/audit-schema';
import type { Notifier, NotifierDeps } from '../notifier.js';
import { postJson } from '../post-json.js';
import type { PagerdutyConfig } from './config.js';
import { pagerdutyPayload } from './pagerduty-payload.js';

export class PagerdutyNotifier implements Notifier {
  readonly type = 'pagerduty';
  readonly #config: PagerdutyConfig;
  readonly #deps: NotifierDeps;

  constructor(config: PagerdutyConfig, deps: NotifierDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  send(alert: AlertRecord): Promise<void> {
    const body = JSON.stringify(pagerdutyPayload(alert, this.#config.routingKey.reveal()));
    return postJson(this.#deps, { destination: this.#config.name, url: this.#config.eventsUrl, body });
  }
}
