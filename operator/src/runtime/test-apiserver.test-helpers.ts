// A stand-in API server for the Manager's unit tests: discovery, lists and (idle) watches of the
// resources it is told to serve, creates answered with the object sent, 404 for the others — enough to drive
// informers, readiness, optional resources and a reconcile's writes without the test bed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { localKubeConfig } from './test-kubeconfig.test-helpers.js';
import type { KubernetesObject, ResourceRef } from './types.js';

interface Served {
  ref: ResourceRef;
  objects: KubernetesObject[];
  /** Answer lists and watches with this status instead (403: RBAC refuses). */
  failWith?: number;
}

export class StandInApiServer {
  /** Every request, as "GET /path?query". */
  readonly requests: string[] = [];
  /** Every request with a body (a create, an update, a patch): its line, as in `requests`, and the body sent. */
  readonly writes: { line: string; body: KubernetesObject }[] = [];
  private readonly served = new Map<string, Served>();
  private readonly watches = new Set<http.ServerResponse>();
  /** Requests held back unanswered (see hold). */
  private readonly held: { match: RegExp; answers: (() => void)[] }[] = [];
  private readonly waiters: { match: RegExp; resolve: () => void }[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<KubeConfig> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return localKubeConfig((this.server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  serve(ref: ResourceRef, objects: KubernetesObject[] = [], failWith?: number): void {
    this.served.set(path(ref), { ref, objects, failWith });
  }

  /**
   * Stops serving `ref` (an API group turned off, a CRD deleted): its open watches end after a
   * bookmark (a healthy watch the server closed), so the informer watches again at once — and gets 404.
   */
  unserve(ref: ResourceRef): void {
    this.served.delete(path(ref));
    for (const res of this.watches)
      res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } })}\n`);
  }

  /** Holds back the answers to requests matching `pattern` (a slow API server) until the function returned is called. */
  hold(pattern: RegExp): () => void {
    const held = { match: pattern, answers: [] as (() => void)[] };
    this.held.push(held);
    return () => {
      this.held.splice(this.held.indexOf(held), 1);
      for (const answer of held.answers.splice(0)) answer();
    };
  }

  /** Resolves once a request matching `pattern` arrives (or has arrived). */
  requested(pattern: RegExp): Promise<void> {
    if (this.requests.some((r) => pattern.test(r))) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match: pattern, resolve }));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const line = `${req.method} ${req.url}`;
      this.requests.push(line);
      if (body) this.writes.push({ line, body: JSON.parse(body) as KubernetesObject });
      for (const w of this.waiters.splice(0))
        if (w.match.test(line)) w.resolve();
        else this.waiters.push(w);
      const held = this.held.find((h) => h.match.test(line));
      if (held) held.answers.push(() => this.answer(req, res, body));
      else this.answer(req, res, body);
    });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url!, 'http://x');
    const json = (status: number, body: unknown) =>
      void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const notFound = () =>
      json(404, {
        kind: 'Status',
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });

    const discovery = [...this.served.values()].filter((s) => groupVersionPath(s.ref) === url.pathname);
    if (/^\/api\/[^/]+$|^\/apis\/[^/]+\/[^/]+$/.test(url.pathname)) {
      if (!discovery.length) return notFound();
      return json(200, { kind: 'APIResourceList', resources: discovery.map((s) => ({ name: s.ref.plural })) });
    }
    const match = /^(\/apis?\/.+?)(?:\/namespaces\/([^/]+))?\/([^/]+)$/.exec(url.pathname);
    const served = match && this.served.get(`${match[1]}/${match[3]}`);
    if (!served) return notFound();
    if (served.failWith)
      return json(served.failWith, {
        kind: 'Status',
        code: served.failWith,
        reason: 'Forbidden',
        message: 'forbidden',
      });
    if (req.method === 'POST') {
      const created = JSON.parse(body) as KubernetesObject;
      return json(201, { ...created, metadata: { ...created.metadata, resourceVersion: '2' } });
    }
    if (url.searchParams.get('watch') === 'true') {
      this.watches.add(res);
      res.on('close', () => this.watches.delete(res));
      return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    }
    const namespace = match![2];
    const items = served.objects.filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
    json(200, { metadata: { resourceVersion: '1' }, items });
  }
}

const groupVersionPath = (ref: ResourceRef) =>
  ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
const path = (ref: ResourceRef) => `${groupVersionPath(ref)}/${ref.plural}`;
