import type { ResolvedConfig } from './config.js';
import { CSRFGuard } from './csrf-guard.js';
import { EventHub } from './events.js';
import { GuessLimiter } from './guess-limiter.js';
import { Sealer } from './sealing.js';
import { SessionCookies } from './session-cookies.js';
import { StoreGateway } from './store-gateway.js';

/** Clients tracked by the token-guessing defence; the oldest window goes first beyond it. */
const MAX_TRACKED_CLIENTS = 10_000;

/**
 * What one manager's requests share: its configuration and the parts built from it. Internal;
 * a plain bundle with no behaviour of its own.
 */
export interface CoreContext {
  readonly config: ResolvedConfig;
  readonly events: EventHub;
  readonly sealer: Sealer;
  readonly cookies: SessionCookies;
  readonly store: StoreGateway;
  readonly csrf: CSRFGuard;
  /** The token-guessing defence (SM-55), null when `unknownTokenLimit` is off. */
  readonly guesses: GuessLimiter | null;
  /** Whether any request check beyond the record needs the client (SM-28, SM-58). */
  readonly bindsClients: boolean;
  now(): number;
}

export function createCoreContext(config: ResolvedConfig): CoreContext {
  const now = (): number => config.runtime.now();
  const events = new EventHub(now);
  const limit = config.unknownTokenLimit;
  return {
    config,
    events,
    sealer: new Sealer(config.keyRing, config),
    cookies: new SessionCookies(config),
    store: new StoreGateway(config.store, events),
    csrf: new CSRFGuard(config.csrf, events),
    guesses:
      limit === null
        ? null
        : new GuessLimiter({
            max: limit.perClient,
            windowMs: limit.windowMs,
            maxClients: MAX_TRACKED_CLIENTS,
          }),
    bindsClients: config.clientBinding !== 'off' || config.currentCredential !== null,
    now,
  };
}
