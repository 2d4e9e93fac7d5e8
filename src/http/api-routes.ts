import type { HealthView } from '../health-view.js';
import type { ApiBodies } from './api-bodies.js';
import { parseHealthQuery } from './health-query.js';
import { isQueryError, parseProvidersQuery } from './providers-query.js';
import { sendCached, sendError, sendFailure, sendQueryError, sendUnknownProvider } from './responses.js';
import { NAME, READ, type Route } from './route-table.js';

/** The read API: providers, one provider, histories, aggregate health. @internal */
export function apiRoutes(view: HealthView, bodies: ApiBodies): Route[] {
  const has = (name: string): boolean => view.registry.has(name);
  return [
    {
      path: ['api', 'providers'],
      methods: READ,
      serve: (req, res, _name, target) => {
        const query = parseProvidersQuery(target);
        if (isQueryError(query)) return sendQueryError(req, res, query);
        // A list of whole rows after a quiet spell waits while its rows are built between turns.
        const built = bodies.rowsBuilt(query);
        if (built === undefined) return sendCached(req, res, bodies.providerList(query));
        built
          .then(() => {
            if (!res.destroyed) sendCached(req, res, bodies.providerList(query));
          })
          .catch((error: unknown) => sendFailure(req, res, error));
      },
    },
    {
      path: ['api', 'providers', NAME],
      methods: READ,
      serve: (req, res, name) =>
        has(name) ? sendCached(req, res, bodies.provider(name)) : sendUnknownProvider(req, res, name),
    },
    {
      path: ['api', 'providers', NAME, 'history'],
      methods: READ,
      serve: (req, res, name) =>
        has(name) ? sendCached(req, res, bodies.history(name)) : sendUnknownProvider(req, res, name),
    },
    {
      path: ['api', 'history'],
      methods: READ,
      serve: (req, res) => sendCached(req, res, bodies.allHistory()),
    },
    {
      path: ['api', 'health'],
      methods: READ,
      serve: (req, res, _name, target) => {
        const query = parseHealthQuery(target);
        if (isQueryError(query)) return sendQueryError(req, res, query);
        const unknown = query.asked.filter((name) => !has(name));
        if (unknown.length > 0) {
          const list = unknown.map((name) => JSON.stringify(name)).join(', ');
          return sendError(req, res, 404, `No provider named ${list} is registered`, undefined, { unknown });
        }
        sendCached(req, res, bodies.health(query));
      },
    },
  ];
}
