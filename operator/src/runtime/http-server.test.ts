// The operator's HTTP endpoints, on a local port: what a Prometheus scrape and the kubelet's probes get.
import http from 'node:http';
import { Counter, Registry } from 'prom-client';
import { healthRoutes, HttpServer, metricsRoutes } from './http-server.js';

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
}

function get(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end();
  });
}

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serving(routes: ConstructorParameters<typeof HttpServer>[0]): Promise<number> {
  const server = new HttpServer(routes);
  servers.push(server);
  return server.listen(0);
}

test('/metrics answers the registry in its exposition format', async () => {
  const registry = new Registry();
  new Counter({ name: 'answers_total', help: 'Answers.', registers: [registry] }).inc(2);
  const port = await serving(metricsRoutes(registry));
  const answer = await get(port, '/metrics');
  expect(answer).toEqual({ status: 200, type: registry.contentType, body: await registry.metrics() });
  expect(answer.body).toContain('answers_total 2');
});

test('/healthz answers ok; /readyz answers ok only once ready, 503 before', async () => {
  let ready = false;
  const port = await serving(healthRoutes(() => ready));
  expect(await get(port, '/healthz')).toEqual({ status: 200, type: 'text/plain', body: 'ok' });
  expect(await get(port, '/readyz')).toEqual({ status: 503, type: 'text/plain', body: 'informers not synced' });
  ready = true;
  expect(await get(port, '/readyz?verbose')).toEqual({ status: 200, type: 'text/plain', body: 'ok' });
});

test('anything but a GET of a route is 404; a route that fails is 500 with its error', async () => {
  const port = await serving({
    ...healthRoutes(() => true),
    '/broken': async () => {
      throw new Error('no registry');
    },
  });
  expect(await get(port, '/healthz', 'POST')).toMatchObject({ status: 404, body: '' });
  expect(await get(port, '/nothing')).toMatchObject({ status: 404, body: '' });
  expect(await get(port, '/broken')).toMatchObject({ status: 500, body: 'Error: no registry' });
});

test('a port already taken is an error, not a silent server that never listens', async () => {
  const port = await serving(healthRoutes(() => true));
  await expect(new HttpServer({}).listen(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
});
