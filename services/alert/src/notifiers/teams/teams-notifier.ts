import type { AlertRecord } from '@kaudit/audit-schema';
import type { Notifier, NotifierDeps } from '../notifier.js';
import { postJson } from '../post-json.js';
import type { TeamsConfig } from './config.js';
import { teamsPayload } from './teams-payload.js';

export class TeamsNotifier implements Notifier {
  readonly type = 'teams';
  readonly #config: TeamsConfig;
  readonly #deps: NotifierDeps;

  constructor(config: TeamsConfig, deps: NotifierDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  send(alert: AlertRecord): Promise<void> {
    return postJson(this.#deps, { destination: this.#config.name, url: this.#config.webhookUrl.reveal(), body: JSON.stringify(teamsPayload(alert)) });
  }
}
