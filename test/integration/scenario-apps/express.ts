import { createSessionManager } from '../../../src/index.js';
import { expressSessions } from '../../../src/adapters/express.js';
import { SCENARIO_ROUTES, type StartApp } from '../adapter-scenarios.js';
import { close, type Express, handle, listen } from '../express-helpers.js';

/** The scenario app on Express: the only Express-specific part of the adapter scenarios. */
export function startExpressApp(express: Express): StartApp {
  return async ({ manager }) => {
    const auth = expressSessions(createSessionManager(manager));
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(auth.arrival, express.urlencoded({ extended: false }), auth.middleware);
    for (const route of SCENARIO_ROUTES) {
      app[route.method === 'GET' ? 'get' : 'post'](
        route.path,
        handle(async (req, res) => {
          const answer = await route.run(auth.session(req), req.body ?? {});
          if (answer.json === undefined) res.sendStatus(answer.status);
          else res.status(answer.status).json(answer.json);
        }),
      );
    }
    app.use(auth.errorHandler);
    const { server, url } = await listen(app);
    return { url, close: () => close(server) };
  };
}
