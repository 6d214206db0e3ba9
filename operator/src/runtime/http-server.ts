// The operator's HTTP endpoints: /metrics (Prometheus text from the Manager's registry), /healthz
// (the process answers) and /readyz (caches synced). One server per port; when metrics and health
// share a port, one server serves all three.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type Route = (res: http.ServerResponse) => Promise<void> | void;

export function metricsRoutes(registry: Registry): Record<string, Route> {
  return {
    '/metrics': async (res) => {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    },
  };
}

export function healthRoutes(isReady: () => boolean): Record<string, Route> {
  return {
    '/healthz': (res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'),
    '/readyz': (res) => {
      const ready = isReady();
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'informers not synced');
    },
  };
}

export class HttpServer {
  private readonly server: http.Server;

  constructor(routes: Record<string, Route>) {
    this.server = http.createServer((req, res) => {
      // A server's request always has its url (only a client's IncomingMessage lacks one).
      const route = req.method === 'GET' ? routes[new URL(req.url!, 'http://x').pathname] : undefined;
      if (!route) return void res.writeHead(404).end();
      Promise.resolve(route(res)).catch((err: unknown) => res.writeHead(500).end(String(err)));
    });
    // Scrapers and probes hold keep-alive connections; don't let them delay shutdown.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Listens on `port` (0: any free port) and returns the port it got. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
