import type { Disposable } from '../disposable.js';
import { toDisposable } from '../disposable.js';
import type { ResolvedHandlerOptions } from './options.js';
import { probeRoutes } from './probe-routes.js';
import { ProbeTracker, type ProbedView } from './probes.js';
import { reloadRoute } from './reload-route.js';
import type { Route } from './route-table.js';
import { statusRoute } from './status-route.js';

/**
 * The routes for running the service under an orchestrator, each opt-in:
 * `probes` (`/livez`, `/readyz`), `status` (`/api/status`), `reload`
 * (`POST /api/reload`). Dispose to release the tracker's listeners. @internal
 */
export function operationRoutes(
  view: ProbedView,
  options: ResolvedHandlerOptions,
  closing: AbortSignal,
): { readonly routes: Route[] } & Disposable {
  const routes: Route[] = [];
  const tracker = options.probes || options.status ? new ProbeTracker(view) : undefined;
  if (tracker && options.probes) routes.push(...probeRoutes(tracker));
  if (tracker && options.status) routes.push(statusRoute(view, tracker));
  if (options.reload) {
    routes.push(reloadRoute(options.reload, options.token, options.maxBodySize, closing));
  }
  const release = toDisposable(() => tracker?.dispose());
  return { routes, ...release };
}
