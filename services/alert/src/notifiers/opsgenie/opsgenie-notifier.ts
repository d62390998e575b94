import type { AlertRecord } from '@kaudit/audit-schema';
import type { Notifier, NotifierDeps } from '../notifier.js';
import { postJson } from '../post-json.js';
import type { OpsgenieConfig } from './config.js';
import { opsgeniePayload } from './opsgenie-payload.js';

export class OpsgenieNotifier implements Notifier {
  readonly type = 'opsgenie';
  readonly #config: OpsgenieConfig;
  readonly #deps: NotifierDeps;

  constructor(config: OpsgenieConfig, deps: NotifierDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  send(alert: AlertRecord): Promise<void> {
    return postJson(this.#deps, {
      destination: this.#config.name,
      url: this.#config.alertsUrl,
      body: JSON.stringify(opsgeniePayload(alert, this.#config.responders)),
      headers: { authorization: `GenieKey ${this.#config.apiKey.reveal()}` },
    });
  }
}
