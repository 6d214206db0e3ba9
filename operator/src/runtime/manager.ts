// The Manager wires the runtime together: one Client, one informer per resource type (shared through
// the Cache), the controllers, leader election, HTTP endpoints and shutdown. Like controller-runtime,
// every replica starts its informers (a standby's cache is warm when it takes over, and it reports
// ready), but only the leader runs controllers.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Client } from './client.js';
import { realClock, type Clock } from './clock.js';
import { Controller, type ControllerOptions } from './controller.js';
import { mapToControllerOwner, mapToSelf, type KeyMapper } from './enqueue.js';
import { Recorder, type EventRecorder } from './events.js';
import { healthRoutes, HttpServer, metricsRoutes, type Route } from './http-server.js';
import { Informer, listerWatcher } from './informer.js';
import { LeaderElector, type LeaderElectionConfig } from './leader-election.js';
import { RuntimeMetrics } from './metrics.js';
import { RestTransport } from './rest.js';
import { StatusWriter } from './status.js';
import { Cache } from './store/cache.js';
import { resourceId, type ResourceRef } from './types.js';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Serve /metrics on this port (0: any free port; omitted: not served). */
  metricsPort?: number;
  /** Serve /healthz and /readyz on this port (may equal metricsPort; 0: any; omitted: not served). */
  healthPort?: number;
  leaderElection?: Omit<LeaderElectionConfig, 'identity'> & { identity?: string };
  /** Re-reconcile every cached object this often, catching anything a missed event left behind. Default 10 h (controller-runtime's SyncPeriod). */
  resyncPeriodMs?: number;
  /** Server-side watch timeout; watches are re-opened from the last resourceVersion after it. Default 5–10 min, random. */
  watchTimeoutSeconds?: number;
  /**
   * Called after leadership is lost and the controllers have stopped. Default: exit the process
   * with status 1 (as controller-runtime does) so the Deployment restarts it as a fresh candidate.
   */
  onLeadershipLost?: () => void;
  clock?: Clock;
}

export class Manager {
  readonly client: Client;
  readonly cache = new Cache();
  readonly recorder: EventRecorder;
  private readonly metrics = new RuntimeMetrics();
  private readonly rest: RestTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: Controller[] = [];
  private readonly servers: HttpServer[] = [];
  private readonly elector: LeaderElector | undefined;
  private controllersRunning = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** Ports actually listened on, after start() (useful with port 0). */
  readonly ports: { metrics?: number; health?: number } = {};

  constructor(private readonly opts: ManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    this.rest = new RestTransport(opts.kubeConfig, (method, code) =>
      this.metrics.restRequests.labels(method, String(code)).inc(),
    );
    this.client = new Client(this.rest);
    const identity = opts.leaderElection?.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.recorder = new Recorder(this.client, { clock: this.clock, logger: this.log, reportingInstance: identity });
    if (opts.leaderElection) {
      this.elector = new LeaderElector(
        this.client,
        { ...opts.leaderElection, identity },
        { onStartedLeading: () => this.startControllers(), onStoppedLeading: () => void this.leadershipLost() },
        this.clock,
        this.log,
      );
      this.metrics.leaderStatus.labels(opts.leaderElection.leaseName).set(0);
    }
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.controllersRunning;
  }

  /** Informers synced: what /readyz reports. A standby (not leader) is ready too. */
  isReady(): boolean {
    return this.started && this.cache.hasSynced();
  }

  addController(opts: ControllerOptions): void {
    if (this.started) throw new Error('addController must be called before start()');
    if (this.controllers.some((c) => c.name === opts.name)) throw new Error(`duplicate controller name ${opts.name}`);
    const status = new StatusWriter(this.client, this.clock);
    const controller = new Controller(opts, {
      client: this.client,
      cache: this.cache,
      recorder: this.recorder,
      status,
      logger: this.log,
      metrics: this.metrics,
      clock: this.clock,
    });
    const sources: [ResourceRef, KeyMapper, string | undefined][] = [
      [opts.for, mapToSelf(), undefined],
      ...(opts.owns ?? []).map((r): [ResourceRef, KeyMapper, undefined] => [
        r,
        mapToControllerOwner(opts.for),
        undefined,
      ]),
      ...(opts.watches ?? []).map((w): [ResourceRef, KeyMapper, string | undefined] => [
        w.resource,
        (obj) => w.map(obj),
        w.labelSelector,
      ]),
    ];
    for (const [ref, map, labelSelector] of sources)
      this.informerFor(ref, labelSelector).addHandlers(controller.handlers(map));
    this.controllers.push(controller);
  }

  /**
   * Starts informers and HTTP endpoints and resolves once every informer has synced; controllers
   * start then (without leader election) or when this replica becomes leader.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('manager already started');
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
    await this.serveHttp();
    const synced = await Promise.all([...this.informers.values()].map((i) => i.whenSynced()));
    if (!synced.every(Boolean)) return; // stopped while syncing
    this.log.info({ informers: this.informers.size }, 'caches synced');
    if (this.elector) this.elector.start();
    else this.startControllers();
  }

  /**
   * Graceful shutdown, idempotent: stop campaigning, let in-flight reconciles finish, stop the
   * informers, release the Lease (a standby takes over at once), close the HTTP servers.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.log.info('stopping');
    await Promise.all(this.controllers.map((c) => c.stop()));
    this.controllersRunning = false;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.elector?.stop();
    await Promise.all(this.servers.map((s) => s.close()));
    this.rest.close();
    this.log.info('stopped');
  }

  private informerFor(ref: ResourceRef, labelSelector?: string): Informer {
    const id = resourceId(ref);
    let informer = this.informers.get(id);
    if (informer && informer.labelSelector !== labelSelector) {
      throw new Error(
        `${id} is already cached with labelSelector ${JSON.stringify(informer.labelSelector ?? '')}; every controller must ask for the same one`,
      );
    }
    if (!informer) {
      const watchTimeoutSeconds = this.opts.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random()));
      // The watchdog: a watch silent past its own server-side timeout (plus slack) is dead.
      const source = listerWatcher(this.client, ref, {
        watchTimeoutSeconds,
        idleTimeoutMs: (watchTimeoutSeconds + 30) * 1000,
        labelSelector,
      });
      informer = new Informer(ref, source, {
        logger: this.log,
        clock: this.clock,
        resyncPeriodMs: this.opts.resyncPeriodMs ?? 10 * 3600_000,
        labelSelector,
      });
      this.informers.set(id, informer);
      this.cache.register(informer);
    }
    return informer;
  }

  private startControllers(): void {
    if (this.stopping || this.controllersRunning) return;
    this.controllersRunning = true;
    if (this.opts.leaderElection) this.metrics.leaderStatus.labels(this.opts.leaderElection.leaseName).set(1);
    for (const c of this.controllers) c.start();
  }

  private async leadershipLost(): Promise<void> {
    if (this.opts.leaderElection) this.metrics.leaderStatus.labels(this.opts.leaderElection.leaseName).set(0);
    if (this.stopping) return;
    this.log.error('leadership lost; stopping');
    await this.stop();
    (this.opts.onLeadershipLost ?? (() => process.exit(1)))();
  }

  private async serveHttp(): Promise<void> {
    const { metricsPort, healthPort } = this.opts;
    const byPort = new Map<number, Record<string, Route>>();
    const add = (port: number | undefined, routes: Record<string, Route>): void => {
      if (port !== undefined) byPort.set(port, { ...byPort.get(port), ...routes });
    };
    add(metricsPort, metricsRoutes(this.registry));
    add(
      healthPort,
      healthRoutes(() => this.isReady()),
    );
    for (const [port, routes] of byPort) {
      const server = new HttpServer(routes);
      const bound = await server.listen(port);
      this.servers.push(server);
      if ('/metrics' in routes) this.ports.metrics = bound;
      if ('/readyz' in routes) this.ports.health = bound;
    }
  }
}
