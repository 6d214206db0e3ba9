// The Manager wires the runtime together: one Client, one shared informer per resource type (the
// Cache), the controllers, leader election, HTTP endpoints and shutdown. Like controller-runtime,
// every replica starts its informers (a standby's cache is warm when it takes over, and it reports
// ready), but only the leader runs controllers. Resources a controller marks optional are watched
// only while the API server serves them (found by discovery), so a cluster without DRA or Gateway
// API still syncs, gets ready and elects a leader; a required resource that never syncs fails start()
// with the reason instead of hanging.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { withJitter } from './backoff.js';
import { RestClient } from './client.js';
import { realClock, sleep, withTimeout, type Clock } from './clock.js';
import { isNotFound } from './errors.js';
import { Controller, forSpecOf, type ControllerOptions } from './controller.js';
import { RestDiscovery, type Discovery } from './discovery.js';
import { mapToControllerOwner, mapToSelf, type MapFunc } from './enqueue.js';
import { Recorder, type EventRecorder } from './events.js';
import { healthRoutes, HttpServer, metricsRoutes, type Route } from './http-server.js';
import { Informer, listerWatcher } from './informer.js';
import { LeaderElector, type LeaderElectionConfig } from './leader-election.js';
import { RuntimeMetrics } from './metrics.js';
import { ResourceInformer } from './resource-informer.js';
import { RestTransport } from './rest.js';
import { InformerCache } from './store/cache.js';
import { ReadYourWritesClient } from './store/read-your-writes.js';
import { resourceId, resourceName, type ResourceRef } from './types.js';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Serve /metrics on this port (0: any free port; omitted: not served). */
  metricsPort?: number;
  /** Serve /healthz and /readyz on this port (may equal metricsPort; 0: any; omitted: not served). */
  healthPort?: number;
  leaderElection?: Omit<LeaderElectionConfig, 'identity'> & { identity?: string };
  /**
   * Watch namespaced resources in these namespaces only (one list/watch each), so Roles there are
   * all the operator needs. Omitted: the whole cluster. Cluster-scoped resources are always cluster-wide.
   */
  namespaces?: string[];
  /** Re-reconcile every cached object this often, catching anything a missed event left behind. Default 10 h (controller-runtime's SyncPeriod). */
  resyncPeriodMs?: number;
  /** Server-side watch timeout; watches are re-opened from the last resourceVersion after it. Default 5–10 min, random. */
  watchTimeoutSeconds?: number;
  /** start() fails, naming the resources and their last error, when caches have not synced by then. Default 2 min. */
  cacheSyncTimeoutMs?: number;
  /** How often discovery looks for optional resources the API server does not serve yet. Default 30 s (jittered). */
  discoveryPeriodMs?: number;
  /** On stop(), in-flight reconciles get this long before their signals are aborted. Default 10 s. */
  gracefulShutdownTimeoutMs?: number;
  /**
   * Called after leadership is lost and the controllers have stopped. Default: exit the process
   * with status 1 (as controller-runtime does) so the Deployment restarts it as a fresh candidate.
   */
  onLeadershipLost?: () => void;
  clock?: Clock;
  /** @internal tests replace the API server's discovery */
  discovery?: Discovery;
}

export class Manager {
  readonly client: RestClient;
  readonly cache = new InformerCache();
  readonly recorder: EventRecorder;
  private readonly events: Recorder;
  private readonly metrics = new RuntimeMetrics();
  private readonly rest: RestTransport;
  /** The Lease's own connection: a renewal never waits for a new TLS handshake behind a burst of reconciles. */
  private readonly leaseRest: RestTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly discovery: Discovery;
  private readonly resources = new Map<string, ResourceInformer>();
  /** resource id → the controllers that watch it (requeued when it appears or goes) */
  private readonly dependents = new Map<string, Set<Controller>>();
  private readonly controllers: Controller[] = [];
  private readonly servers: HttpServer[] = [];
  private readonly elector: LeaderElector | undefined;
  private readonly background = new AbortController();
  private discoveryLoop: Promise<void> | undefined;
  private controllersRunning = false;
  private started = false;
  private stopping: Promise<void> | undefined;
  /** Ports actually listened on, after start() (useful with port 0). */
  readonly ports: { metrics?: number; health?: number } = {};

  constructor(private readonly opts: ManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.logger;
    const observe = (method: string, code: number | 'error', seconds: number) => {
      this.metrics.restRequests.labels(method, String(code)).inc();
      this.metrics.restLatency.labels(method).observe(seconds);
    };
    this.rest = new RestTransport(opts.kubeConfig, { observe, clock: this.clock });
    this.leaseRest = new RestTransport(opts.kubeConfig, { observe, clock: this.clock });
    this.client = new RestClient(this.rest);
    this.discovery = opts.discovery ?? new RestDiscovery(this.rest);
    const identity = opts.leaderElection?.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.recorder = this.events = new Recorder(this.client, {
      clock: this.clock,
      logger: this.log,
      reportingInstance: identity,
    });
    if (opts.leaderElection) {
      this.elector = new LeaderElector(
        new RestClient(this.leaseRest),
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

  /** Every required resource synced: what /readyz reports. Optional resources never count; a standby is ready too. */
  isReady(): boolean {
    return this.started && !this.stopping && [...this.resources.values()].every((r) => r.optional || r.hasSynced());
  }

  addController(opts: ControllerOptions): void {
    if (this.started) throw new Error('addController must be called before start()');
    if (this.controllers.some((c) => c.name === opts.name)) throw new Error(`duplicate controller name ${opts.name}`);
    const controller = new Controller(opts, {
      // What a reconcile writes, its next reconcile reads, even before the watch brings it.
      client: (scope) => new ReadYourWritesClient(this.client.scoped(scope), this.cache),
      cache: this.cache,
      recorder: this.recorder,
      logger: this.log,
      metrics: this.metrics,
      clock: this.clock,
    });
    const forSpec = forSpecOf(opts);
    const sources: {
      ref: ResourceRef;
      map: MapFunc;
      labelSelector?: string;
      optional?: boolean;
      userChanges?: boolean;
    }[] = [
      { ref: forSpec.resource, map: forSpec.map ?? mapToSelf, userChanges: true },
      ...(opts.owns ?? []).map((o) => {
        const owned = 'resource' in o ? o : { resource: o };
        return {
          ref: owned.resource,
          map: mapToControllerOwner(forSpec.resource, forSpec.map),
          optional: owned.optional,
        };
      }),
      ...(opts.watches ?? []).map((w) => ({
        ref: w.resource,
        map: w.map,
        labelSelector: w.labelSelector,
        optional: w.optional,
      })),
    ];
    for (const { ref, map, labelSelector, optional, userChanges } of sources) {
      const resource = this.resourceFor(ref, labelSelector);
      if (!optional) resource.optional = false;
      resource.addHandlers(controller.handlers(map, { userChanges }));
      const id = resourceId(ref);
      this.dependents.set(id, (this.dependents.get(id) ?? new Set()).add(controller));
    }
    for (const index of opts.indexes ?? []) {
      const existing = this.resources.get(resourceId(index.resource));
      const resource = existing ?? this.resourceFor(index.resource, undefined);
      if (!existing) resource.optional = false;
      resource.addIndex(index.name, index.keys);
    }
    this.controllers.push(controller);
  }

  /**
   * Starts informers and HTTP endpoints and resolves once every informer has synced; controllers
   * start then (without leader election) or when this replica becomes leader. Optional resources the
   * API server does not serve are left out and looked for again every discoveryPeriodMs. Rejects —
   * after stopping everything — when caches have not synced within cacheSyncTimeoutMs.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('manager already started');
    this.started = true;
    await this.serveHttp();
    await Promise.all([...this.resources.values()].map((r) => this.startResource(r)));
    const synced = await this.waitForSync();
    if (synced === 'stopped') return;
    if (synced === 'timeout') {
      const error = new Error(
        `caches did not sync within ${this.syncTimeoutMs() / 1000} s: ${this.describeUnsynced()}`,
      );
      this.log.error({ err: error.message }, 'caches did not sync');
      await this.stop();
      throw error;
    }
    const unserved = [...this.resources.values()].filter((r) => r.state === 'unserved').map((r) => resourceName(r.ref));
    this.log.info({ informers: this.resources.size, unserved }, 'caches synced');
    this.discoveryLoop = this.discover();
    if (this.elector) this.elector.start();
    else this.startControllers();
  }

  /**
   * Graceful shutdown, idempotent: stop campaigning, give in-flight reconciles the graceful
   * shutdown timeout and then abort them, stop the informers, release the Lease (a standby takes
   * over at once), close the HTTP servers.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown(this.opts.gracefulShutdownTimeoutMs ?? 10_000);
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.log.info('stopping');
    this.background.abort();
    await Promise.all(this.controllers.map((c) => c.stop(graceMs)));
    this.controllersRunning = false;
    await this.discoveryLoop;
    await Promise.all([...this.resources.values()].map((r) => r.stop()));
    await this.elector?.stop();
    await Promise.all(this.servers.map((s) => s.close()));
    // Events still being written in the background get the grace period too.
    const graceOver = new AbortController();
    await Promise.race([this.events.flush(), sleep(this.clock, graceMs, graceOver.signal)]);
    graceOver.abort();
    this.rest.close();
    this.leaseRest.close();
    this.log.info('stopped');
  }

  private syncTimeoutMs(): number {
    return this.opts.cacheSyncTimeoutMs ?? 120_000;
  }

  /** Waits for every running resource; an optional one that turns out unserved drops out. */
  private async waitForSync(): Promise<'synced' | 'timeout' | 'stopped'> {
    // A required resource's whenSynced() resolves false only once stop() has stopped it: every one has synced
    // unless the manager is stopping (an optional one that turned out unserved just drops out).
    const all = Promise.all([...this.resources.values()].map((r) => r.whenSynced())).then((): 'synced' | 'stopped' =>
      this.stopping ? 'stopped' : 'synced',
    );
    return withTimeout(this.clock, this.syncTimeoutMs(), all, 'timeout' as const);
  }

  private describeUnsynced(): string {
    return [...this.resources.values()]
      .filter((r) => r.state === 'running' && !r.hasSynced())
      .map((r) => {
        const err = r.lastError();
        const hint = isNotFound(err) ? ' — is its CRD installed, its API group enabled?' : '';
        return `${resourceName(r.ref)} (${err === undefined ? 'no response yet' : String(err)}${hint})`;
      })
      .join('; ');
  }

  /** A required resource starts at once; an optional one when discovery says it is served (or cannot say). */
  private async startResource(resource: ResourceInformer): Promise<void> {
    if (!resource.optional) return resource.start();
    let served = true;
    try {
      served = await this.discovery.isServed(resource.ref);
    } catch (err) {
      this.log.warn({ err: String(err), resource: resourceName(resource.ref) }, 'discovery failed; watching anyway');
    }
    if (served) return resource.start();
    await resource.stop('unserved');
    this.log.info(
      { resource: resourceName(resource.ref) },
      'optional resource not served by the API server; looking for it periodically',
    );
  }

  /** Looks for optional resources that are not served yet; starts each one that appears. */
  private async discover(): Promise<void> {
    const signal = this.background.signal;
    const period = this.opts.discoveryPeriodMs ?? 30_000;
    while (!signal.aborted) {
      await sleep(this.clock, withJitter(period), signal);
      for (const resource of this.resources.values()) {
        if (signal.aborted || resource.state !== 'unserved') continue;
        let served = false;
        try {
          served = await this.discovery.isServed(resource.ref);
        } catch (err) {
          this.log.debug(
            { err: String(err), resource: resourceName(resource.ref) },
            'discovery failed; trying again later',
          );
        }
        if (served && !signal.aborted) void this.appeared(resource);
      }
    }
  }

  private async appeared(resource: ResourceInformer): Promise<void> {
    const name = resourceName(resource.ref);
    this.log.info({ resource: name }, 'optional resource is served now; watching it');
    resource.start();
    const synced = await withTimeout(this.clock, this.syncTimeoutMs(), resource.whenSynced(), 'timeout' as const);
    if (synced === 'timeout') {
      this.log.error(
        { resource: name, err: String(resource.lastError()) },
        'optional resource did not sync; still trying',
      );
      if (!(await resource.whenSynced())) return;
    } else if (!synced) return;
    this.log.info({ resource: name }, 'optional resource synced; reconciling its dependents again');
    this.requeueDependents(resource);
  }

  private unserved(resource: ResourceInformer): void {
    if (this.stopping) return;
    this.log.warn(
      { resource: resourceName(resource.ref) },
      'optional resource is no longer served; looking for it periodically',
    );
    this.requeueDependents(resource);
  }

  private requeueDependents(resource: ResourceInformer): void {
    for (const controller of this.dependents.get(resourceId(resource.ref)) ?? []) controller.requeueAll();
  }

  private resourceFor(ref: ResourceRef, labelSelector: string | undefined): ResourceInformer {
    const id = resourceId(ref);
    const existing = this.resources.get(id);
    if (existing) {
      if (existing.labelSelector !== labelSelector)
        throw new Error(
          `${id} is already cached with labelSelector ${JSON.stringify(existing.labelSelector ?? '')}; every controller must ask for the same one`,
        );
      return existing;
    }
    const watchTimeoutSeconds = this.opts.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random()));
    const resource = new ResourceInformer(
      ref,
      labelSelector,
      this.opts.namespaces,
      (namespace, onNotServed) =>
        new Informer(
          ref,
          // The watchdog: a watch silent past its own server-side timeout (plus slack) is dead.
          listerWatcher(this.client, ref, {
            watchTimeoutSeconds,
            idleTimeoutMs: (watchTimeoutSeconds + 30) * 1000,
            labelSelector,
            namespace,
          }),
          {
            logger: namespace ? this.log.child({ namespace }) : this.log,
            clock: this.clock,
            resyncPeriodMs: this.opts.resyncPeriodMs ?? 10 * 3600_000,
            onNotServed,
          },
        ),
      (r) => this.unserved(r),
    );
    this.resources.set(id, resource);
    this.cache.register(resource);
    return resource;
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
    // No grace: another replica may lead already, so in-flight reconciles are aborted at once.
    this.stopping = this.shutdown(0);
    await this.stopping;
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
