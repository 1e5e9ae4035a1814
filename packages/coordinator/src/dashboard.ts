import type { HttpRoute } from '@kv/protocol';
import type { ClusterViewBuilder } from './cluster-view';
import { DASHBOARD_HTML } from './dashboard-page';

/** Longest key `/api/key` looks up, in bytes (the nodes' default key limit). */
const MAX_KEY_BYTES = 4096;

/** The page may run its own inline script and style and fetch from this origin only. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
};

const json = (status: number, value: unknown): ReturnType<HttpRoute> => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(value),
});

/** The dashboard's routes: the page at `/`, the cluster at `/api/cluster`, key lookups. */
export function dashboardRoutes(view: ClusterViewBuilder): Record<string, HttpRoute> {
  return {
    '/': () => ({
      contentType: 'text/html; charset=utf-8',
      body: DASHBOARD_HTML,
      headers: PAGE_HEADERS,
    }),
    '/api/cluster': async () => json(200, await view.build()),
    '/api/key': (query) => {
      const key = query.get('key');
      if (key === null || key === '')
        return json(400, { error: 'give the key to look up: /api/key?key=user:1' });
      if (Buffer.byteLength(key) > MAX_KEY_BYTES)
        return json(400, { error: `keys are at most ${MAX_KEY_BYTES} bytes` });
      return json(200, view.replicasOf(key));
    },
  };
}
