import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { kubernetesChecker } from '../src/checkers/kubernetes.js';
import { nomadChecker } from '../src/checkers/nomad.js';
import { ManualClock } from '../src/testing/manual-clock.js';
import { close, leakedSecrets, listen, trackSockets } from './support/listen.js';
import { createTestPki, type TestPki } from './support/tls.js';

/**
 * The opt-in control-plane checks (issue 14) of Kubernetes (`livez`, `nodes`)
 * and Nomad (`autopilot`), against real HTTP(S) servers that answer as the
 * documented APIs do. Docker's `info` is in checkers-docker-info.test.ts (it
 * starts Podman).
 */

const TOKEN = 'k8s-admin-token-0a1b2c3d4e5f';
const LIMITED = 'k8s-limited-token-9f8e7d6c';
const NOMAD_TOKEN = 'b1c2d3e4-acl-secret-5f6a7b8c9d0e';
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

type NodesMode = 'ready' | 'not-ready' | 'hang';
type LivezMode = 'ok' | 'failing' | 'hang';

interface FakeKube {
  server: https.Server;
  seen: string[];
  nodes: NodesMode;
  livez: LivezMode;
  versionHangs: boolean;
}

const node = (name: string, ready: 'True' | 'False' | 'Unknown') => ({
  metadata: { name },
  status: {
    conditions: [
      { type: 'MemoryPressure', status: 'False' },
      { type: 'Ready', status: ready },
    ],
  },
});

/**
 * As an API server with RBAC: `/readyz`, `/livez` and `/version` are open to
 * anyone (system:public-info-viewer); `/api/v1/nodes` needs a token, and the
 * limited user lacks `list` on nodes (403).
 */
function fakeKube(pki: TestPki): FakeKube {
  const state: FakeKube = {
    server: undefined as never,
    seen: [],
    nodes: 'ready',
    livez: 'ok',
    versionHangs: false,
  };
  state.server = https.createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    state.seen.push(`${url.pathname}${url.search}`);
    const auth = req.headers.authorization;
    if (url.pathname === '/readyz') return void res.end('ok');
    if (url.pathname === '/version' && state.versionHangs) return;
    if (url.pathname === '/version') return void res.end(JSON.stringify({ gitVersion: 'v1.31.2' }));
    if (url.pathname === '/livez') {
      if (state.livez === 'hang') return;
      if (state.livez === 'ok') return void res.end('[+]ping ok\n[+]etcd ok\nlivez check passed');
      return void res.writeHead(500).end('[+]ping ok\n[-]etcd failed: reason withheld\nlivez check failed');
    }
    if (url.pathname === '/api/v1/nodes') {
      if (auth === `Bearer ${LIMITED}`) {
        return void res
          .writeHead(403, { 'Content-Type': 'application/json' })
          .end(
            '{"kind":"Status","message":"nodes is forbidden: User \\"limited\\" cannot list resource \\"nodes\\""}',
          );
      }
      if (auth !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('{"kind":"Status","code":401}');
      if (state.nodes === 'hang') return;
      const items =
        state.nodes === 'ready'
          ? [node('node-a', 'True'), node('node-b', 'True')]
          : [node('node-a', 'True'), node('node-b', 'False'), node('node-c', 'Unknown')];
      return void res.end(JSON.stringify({ kind: 'NodeList', metadata: {}, items }));
    }
    res.writeHead(404).end();
  });
  return state;
}

describe('kubernetesChecker livez and nodes (opt-in)', () => {
  let pki: TestPki;
  let dir = '';
  let kube: FakeKube;
  let sockets: ReturnType<typeof trackSockets>;
  let server = '';
  const configs: Record<string, string> = {};

  before(async () => {
    pki = await createTestPki();
    dir = await mkdtemp(join(tmpdir(), 'provider-health-deep-'));
    kube = fakeKube(pki);
    sockets = trackSockets(kube.server);
    server = `https://127.0.0.1:${await listen(kube.server)}`;
    for (const [name, token] of [
      ['admin', TOKEN],
      ['limited', LIMITED],
      ['wrong', 'not-a-valid-token-31415'],
    ] as const) {
      configs[name] = join(dir, `${name}.yaml`);
      await writeFile(
        configs[name],
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'c',
          clusters: [
            {
              name: 'c',
              cluster: { server, 'certificate-authority-data': Buffer.from(pki.ca.cert).toString('base64') },
            },
          ],
          users: [{ name: 'u', user: { token } }],
          contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        }),
      );
    }
  });
  after(async () => {
    await close(kube.server);
    await rm(dir, { recursive: true, force: true });
    await pki?.cleanup();
  });
  const reset = (): void => {
    kube.seen = [];
    kube.nodes = 'ready';
    kube.livez = 'ok';
    kube.versionHangs = false;
  };

  it('asks neither by default', async () => {
    reset();
    const report = await kubernetesChecker({ kubeconfig: configs.admin }).healthCheck(signal());
    assert.equal(report.healthy, true, report.message);
    assert.deepEqual(kube.seen, ['/readyz', '/version']);
    assert.equal(report.details?.nodes, undefined);
  });

  it('is healthy when /livez passes and every node is Ready, one request each', async () => {
    reset();
    const checker = kubernetesChecker({ kubeconfig: configs.admin, livez: true, nodes: true });
    const report = await checker.healthCheck(signal());
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, undefined, report.message);
    assert.equal(report.message, `Kubernetes API server at ${server} is ready (v1.31.2)`);
    assert.deepEqual(report.details?.nodes, { total: 2, notReady: [] });
    assert.equal(report.details?.live, true);
    assert.deepEqual(kube.seen, ['/readyz', '/livez?verbose', '/api/v1/nodes?limit=500', '/version']);
  });

  it('is unhealthy when a liveness check fails, naming it', async () => {
    reset();
    kube.livez = 'failing';
    const report = await kubernetesChecker({ kubeconfig: configs.admin, livez: true }).healthCheck(signal());
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `Kubernetes API server at ${server}: not live (500 Internal Server Error): [-]etcd failed: reason withheld`,
    );
  });

  it('is degraded naming the NotReady nodes', async () => {
    reset();
    kube.nodes = 'not-ready';
    const report = await kubernetesChecker({ kubeconfig: configs.admin, nodes: true }).healthCheck(signal());
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, true);
    assert.equal(
      report.message,
      `Kubernetes API server at ${server} is ready (v1.31.2) (nodes not ready (2 of 3): node-b, node-c)`,
    );
    assert.deepEqual(report.details?.nodes, { total: 3, notReady: ['node-b', 'node-c'] });
  });

  it('names the missing permission on a 403, and a rejected token on a 401, never the token', async () => {
    reset();
    const limited = await kubernetesChecker({ kubeconfig: configs.limited, nodes: true }).healthCheck(
      signal(),
    );
    assert.equal(limited.healthy, true, limited.message);
    assert.equal(limited.degraded, true);
    assert.match(
      limited.message ?? '',
      /\(not authorised \(403\) to list nodes: the user needs the "list" verb on "nodes" \(cluster-scoped, in a ClusterRole\)\)$/,
    );
    const wrong = await kubernetesChecker({ kubeconfig: configs.wrong, nodes: true }).healthCheck(signal());
    assert.equal(wrong.healthy, false);
    assert.equal(
      wrong.message,
      `Kubernetes API server at ${server}: authentication failed (401) listing nodes`,
    );
    const text = JSON.stringify([limited, wrong]);
    assert.deepEqual(leakedSecrets(text, [TOKEN, LIMITED, 'not-a-valid-token-31415']), []);
  });

  for (const which of ['livez', 'nodes'] as const) {
    it(
      `a hanging /${which}: the check's timeout holds and nothing is left open`,
      { timeout: 30_000 },
      async () => {
        reset();
        if (which === 'livez') kube.livez = 'hang';
        else kube.nodes = 'hang';
        const controller = new AbortController();
        const checker = kubernetesChecker({ kubeconfig: configs.admin, [which]: true });
        const started = Date.now();
        const timer = setTimeout(
          () => controller.abort(new DOMException('check timed out after 500 ms', 'TimeoutError')),
          500,
        );
        try {
          await assert.rejects(checker.healthCheck(controller.signal), {
            name: 'TimeoutError',
            message: `timed out: ${server} did not answer in time`,
          });
        } finally {
          clearTimeout(timer);
        }
        assert.ok(Date.now() - started < 5_000);
        assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
        await sockets.closed();
        assert.equal(sockets.open.size, 0);
      },
    );
  }

  for (const which of ['livez', 'nodes'] as const) {
    it(
      `a hanging /${which} is degraded after its own 2 s budget (on the injected clock), nothing left open`,
      { timeout: 30_000 },
      async () => {
        reset();
        if (which === 'livez') kube.livez = 'hang';
        else kube.nodes = 'hang';
        const path = which === 'livez' ? '/livez?verbose' : '/api/v1/nodes?limit=500';
        const clock = new ManualClock(Date.now());
        // Longer than the budget: the check's own timeout is not what ends it.
        const checkSignal = AbortSignal.timeout(10_000);
        const pending = kubernetesChecker({ kubeconfig: configs.admin, [which]: true, clock }).healthCheck(
          checkSignal,
        );
        for (let i = 0; i < 1_000 && !kube.seen.includes(path); i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.ok(kube.seen.includes(path), `${path} was not asked`);
        await clock.advance(2_000);
        const report = await pending;
        assert.equal(report.healthy, true, report.message);
        assert.equal(report.degraded, true);
        assert.equal(
          report.message,
          `Kubernetes API server at ${server} is ready (v1.31.2) (${which}: no answer within 2 s)`,
        );
        assert.equal(getEventListeners(checkSignal, 'abort').length, 0);
        await sockets.closed();
        assert.equal(sockets.open.size, 0);
      },
    );
  }

  it('the /version follow-up budget (1 s) runs on an injected clock', { timeout: 30_000 }, async () => {
    reset();
    kube.versionHangs = true;
    const clock = new ManualClock(Date.now());
    let settled = false;
    const pending = kubernetesChecker({ kubeconfig: configs.admin, clock })
      .healthCheck(signal())
      .finally(() => (settled = true));
    for (let i = 0; i < 500 && !kube.seen.includes('/version'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(kube.seen.includes('/version'));
    // Real time passes, the injected clock does not: the follow-up is still waiting.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.equal(settled, false);
    await clock.advance(1_000);
    const report = await pending;
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.message, `Kubernetes API server at ${server} is ready`);
    await sockets.closed();
    assert.equal(sockets.open.size, 0);
  });

  it('validates livez and nodes', () => {
    assert.throws(() => kubernetesChecker({ nodes: 'yes' as never }), {
      name: 'TypeError',
      message: 'kubernetesChecker: nodes must be a boolean, got "yes"',
    });
    assert.throws(() => kubernetesChecker({ livez: 1 as never }), {
      message: 'kubernetesChecker: livez must be a boolean, got 1',
    });
  });
});

type Autopilot = 'healthy' | 'no-tolerance' | 'unhealthy' | 'hang';

describe('nomadChecker autopilot (opt-in)', () => {
  let mode: Autopilot = 'healthy';
  const seen: { path: string; token: string | undefined }[] = [];
  let server: http.Server;
  let sockets: ReturnType<typeof trackSockets>;
  let address = '';
  const servers = (healthy: boolean) => [
    { ID: '1', Name: 'server-1.global', Healthy: true, Leader: true, Voter: true },
    { ID: '2', Name: 'server-2.global', Healthy: healthy, Leader: false, Voter: true },
    { ID: '3', Name: 'server-3.global', Healthy: true, Leader: false, Voter: true },
  ];

  before(async () => {
    // As a Nomad agent with ACLs: autopilot health needs operator:read, which only NOMAD_TOKEN has.
    server = http.createServer((req, res) => {
      const token = req.headers['x-nomad-token'] as string | undefined;
      const path = req.url ?? '';
      seen.push({ path, token });
      if (path.startsWith('/v1/agent/health'))
        return void res.end(JSON.stringify({ server: { ok: true, message: 'ok' } }));
      if (!path.startsWith('/v1/operator/autopilot/health')) return void res.writeHead(404).end();
      if (token !== NOMAD_TOKEN) return void res.writeHead(403).end('Permission denied');
      if (mode === 'hang') return;
      const body =
        mode === 'healthy'
          ? { Healthy: true, FailureTolerance: 1, Servers: servers(true) }
          : mode === 'no-tolerance'
            ? { Healthy: true, FailureTolerance: 0, Servers: servers(true).slice(0, 2) }
            : { Healthy: false, FailureTolerance: 0, Servers: servers(false) };
      res
        .writeHead(body.Healthy ? 200 : 429, { 'Content-Type': 'application/json' })
        .end(JSON.stringify(body));
    });
    sockets = trackSockets(server);
    address = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => close(server));

  const check = (options: object = {}) =>
    nomadChecker({ address, token: NOMAD_TOKEN, autopilot: true, ...options }).healthCheck(signal());

  it('is not asked by default', async () => {
    seen.length = 0;
    const report = await nomadChecker({ address, token: NOMAD_TOKEN }).healthCheck(signal());
    assert.equal(report.healthy, true);
    assert.deepEqual(
      seen.map((entry) => entry.path),
      ['/v1/agent/health'],
    );
  });

  it('is healthy with a failure tolerance above 0, sending the token and region', async () => {
    mode = 'healthy';
    seen.length = 0;
    const report = await check({ region: 'eu' });
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, undefined, report.message);
    assert.deepEqual(report.details?.autopilot, {
      healthy: true,
      failureTolerance: 1,
      servers: 3,
      unhealthyServers: [],
    });
    assert.deepEqual(seen, [
      { path: '/v1/agent/health?region=eu', token: NOMAD_TOKEN },
      { path: '/v1/operator/autopilot/health?region=eu', token: NOMAD_TOKEN },
    ]);
  });

  it('is degraded with a failure tolerance of 0', async () => {
    mode = 'no-tolerance';
    const report = await check();
    assert.equal(report.healthy, true);
    assert.equal(report.degraded, true);
    assert.equal(
      report.message,
      `Nomad agent at ${address}: server ok (autopilot: failure tolerance 0 (losing one more server loses quorum))`,
    );
  });

  it('is unhealthy when autopilot says the servers are not (429), naming them', async () => {
    mode = 'unhealthy';
    const report = await check();
    assert.equal(report.healthy, false);
    assert.equal(
      report.message,
      `Nomad agent at ${address}: autopilot reports the servers unhealthy: unhealthy servers server-2.global`,
    );
    assert.deepEqual(report.details?.autopilot, {
      healthy: false,
      failureTolerance: 0,
      servers: 3,
      unhealthyServers: ['server-2.global'],
    });
  });

  it('says which ACL is missing on a 403 (wrong or weak token), never showing it', async () => {
    mode = 'healthy';
    const wrong = 'wrong-acl-token-271828';
    const report = await check({ token: wrong });
    assert.equal(report.healthy, true, report.message);
    assert.equal(report.degraded, true);
    assert.equal(
      report.message,
      `Nomad agent at ${address}: server ok (autopilot: /v1/operator/autopilot/health answered 403 Forbidden: the ACL token lacks operator:read (or was rejected))`,
    );
    assert.deepEqual(leakedSecrets(JSON.stringify(report), [wrong, NOMAD_TOKEN]), []);
  });

  it(
    "a hanging autopilot: the check's timeout holds and nothing is left open",
    { timeout: 30_000 },
    async () => {
      mode = 'hang';
      const controller = new AbortController();
      const pending = nomadChecker({ address, token: NOMAD_TOKEN, autopilot: true }).healthCheck(
        controller.signal,
      );
      const timer = setTimeout(
        () => controller.abort(new DOMException('check timed out after 500 ms', 'TimeoutError')),
        500,
      );
      try {
        await assert.rejects(pending, {
          name: 'TimeoutError',
          message: `timed out: ${address} did not answer in time`,
        });
      } finally {
        clearTimeout(timer);
        mode = 'healthy';
      }
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
      await sockets.closed();
      assert.equal(sockets.open.size, 0);
    },
  );

  it(
    'a hanging autopilot is degraded after its own 2 s budget (on the injected clock), nothing left open',
    { timeout: 30_000 },
    async () => {
      mode = 'hang';
      seen.length = 0;
      const clock = new ManualClock(Date.now());
      // Longer than the budget: the check's own timeout is not what ends it.
      const checkSignal = AbortSignal.timeout(10_000);
      const asked = () => seen.some((entry) => entry.path.startsWith('/v1/operator/autopilot/health'));
      try {
        const pending = nomadChecker({ address, token: NOMAD_TOKEN, autopilot: true, clock }).healthCheck(
          checkSignal,
        );
        for (let i = 0; i < 1_000 && !asked(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.ok(asked(), 'autopilot was not asked');
        await clock.advance(2_000);
        const report = await pending;
        assert.equal(report.healthy, true, report.message);
        assert.equal(report.degraded, true);
        assert.equal(
          report.message,
          `Nomad agent at ${address}: server ok (autopilot: no answer within 2 s)`,
        );
      } finally {
        mode = 'healthy';
      }
      assert.equal(getEventListeners(checkSignal, 'abort').length, 0);
      await sockets.closed();
      assert.equal(sockets.open.size, 0);
    },
  );

  it('validates autopilot', () => {
    assert.throws(() => nomadChecker({ autopilot: 'true' as never }), {
      name: 'TypeError',
      message: 'nomadChecker: autopilot must be a boolean, got "true"',
    });
  });
});
