import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProbeAnswer, ProbeTracker } from './probes.js';
import { sendJSON } from './responses.js';
import { READ, type Route } from './route-table.js';

/**
 * `GET /livez` and `GET /readyz`, for orchestrator probes: 200
 * `{"ok": true, "reason"}` or 503 `{"ok": false, "reason"}`, never cached.
 * Neither looks at the providers' health (that is `/api/health`): a service
 * watching failing providers is still alive and ready. Each answer is a few
 * comparisons of numbers the {@link ProbeTracker} keeps. @internal
 */
export function probeRoutes(tracker: ProbeTracker): Route[] {
  return [
    { path: ['livez'], methods: READ, serve: (req, res) => answer(req, res, tracker.live()) },
    { path: ['readyz'], methods: READ, serve: (req, res) => answer(req, res, tracker.ready()) },
  ];
}

function answer(req: IncomingMessage, res: ServerResponse, probe: ProbeAnswer): void {
  sendJSON(req, res, probe.ok ? 200 : 503, { ok: probe.ok, reason: probe.reason });
}
