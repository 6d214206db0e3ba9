// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: a candidate
// takes the Lease when it is free (no holder: released) or its holder has not renewed it for
// leaseDuration. "Not renewed" is judged by when *this* process last saw the record change, on its
// own monotonic clock — never by comparing the holder's renewTime with local wall time, so clock
// skew between nodes cannot make two leaders. The leader renews every retryPeriod and gives up
// (onStoppedLeading) if it cannot renew within renewDeadline, which is < leaseDuration so it stops
// before anyone else may start.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Client } from './client.js';
import { sleep, toMicroTime, withTimeout, type Clock } from './clock.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import type { KubernetesObject, ResourceRef } from './types.js';

export const leasesRef: ResourceRef = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
};

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
type Lease = KubernetesObject & { spec?: LeaseSpec };

export interface LeaderElectionConfig {
  leaseName: string;
  namespace: string;
  /** Unique per replica; default: hostname (the pod name) + a random suffix. */
  identity: string;
  /** How long a non-renewed Lease stays held. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it cannot renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between acquire attempts and between renewals. Default 2 s. */
  retryPeriodMs?: number;
  /** Clear holderIdentity on stop so a standby takes over at once (client-go's ReleaseOnCancel). Default true. */
  releaseOnStop?: boolean;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

type LeaseClient = Pick<Client, 'get' | 'create' | 'update'>;

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly abort = new AbortController();
  private observed: LeaseSpec | undefined;
  private observedAtMs = 0;
  /** The Lease as this replica last wrote it: a leader renews it as it is, without reading it first. */
  private written: Lease | undefined;
  private leading = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: LeaseClient,
    private readonly config: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns in the background: acquire, lead, renew — until stop() or a lost renewal. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader releases the Lease (clears holderIdentity, unless releaseOnStop is false) so a standby takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      if (this.config.releaseOnStop ?? true) await this.release();
      this.setLeading(false);
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted && !(await this.attempt())) {
      // client-go's JitterFactor 1.2: candidates spread out instead of retrying in lockstep
      await sleep(this.clock, this.retryPeriodMs * (1 + Math.random() * 1.2), signal);
    }
    if (signal.aborted) return;
    this.setLeading(true);
    let lastRenewMs = this.clock.monotonicMs();
    while (!signal.aborted) {
      const dueMs = this.clock.monotonicMs() + this.retryPeriodMs;
      await sleep(this.clock, this.retryPeriodMs, signal);
      if (signal.aborted) return;
      // A renewal that hangs (a partition dropping packets) must not outlive the deadline: past it,
      // a standby may take the Lease while this replica still believes it leads.
      const sentMs = this.clock.monotonicMs();
      const remainingMs = lastRenewMs + this.renewDeadlineMs - sentMs;
      const renewed = await this.attempt(remainingMs);
      this.reportSlowRound(sentMs - dueMs, this.clock.monotonicMs() - sentMs);
      if (renewed) lastRenewMs = this.clock.monotonicMs();
      else if (this.clock.monotonicMs() - lastRenewMs >= this.renewDeadlineMs) {
        this.log.error(
          { lease: this.config.leaseName },
          'could not renew the lease within the renew deadline; leadership lost',
        );
        this.setLeading(false);
        return;
      }
    }
  }

  /**
   * A renewal round that took longer than retryPeriod eats into the renew deadline: says whether the
   * timer fired late (this process was busy) or the request was slow (the API server or the network).
   */
  private reportSlowRound(timerLateMs: number, requestMs: number): void {
    if (timerLateMs + requestMs <= this.retryPeriodMs) return;
    this.log.warn(
      { lease: this.config.leaseName, timerLateMs: Math.round(timerLateMs), requestMs: Math.round(requestMs) },
      'lease renewal slow',
    );
  }

  /** One tryAcquireOrRenew; true when this replica holds the Lease afterwards. Never throws; false after `timeoutMs`. */
  private async attempt(timeoutMs = this.renewDeadlineMs): Promise<boolean> {
    try {
      return await withTimeout(this.clock, timeoutMs, this.tryAcquireOrRenew(), false);
    } catch (err) {
      this.log.warn({ err: String(err), lease: this.config.leaseName }, 'lease request failed');
      return false;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { leaseName: name, namespace, identity } = this.config;
    const now = toMicroTime(this.clock.now());
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    // client-go's fast path: the leader renews the Lease it last wrote (one PUT instead of a GET and a
    // PUT); its resourceVersion makes that safe, and any failure falls back to reading it first.
    if (this.leading && this.written?.spec) {
      const spec: LeaseSpec = { ...this.written.spec, renewTime: now };
      try {
        if (await this.write(() => this.client.update(leasesRef, { ...this.written!, spec }), spec)) return true;
      } catch (err) {
        this.log.debug({ err: String(err), lease: name }, 'renewing the lease as last written failed; reading it');
      }
    }
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(leasesRef, { namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const spec: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
      return this.write(
        () =>
          this.client.create(leasesRef, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { namespace, name },
            spec,
          }),
        spec,
      );
    }
    const current = lease.spec ?? {};
    if (!isDeepStrictEqual(current, this.observed)) {
      this.observed = current;
      this.observedAtMs = this.clock.monotonicMs();
    }
    const holder = current.holderIdentity;
    const heldMs = (current.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder && holder !== identity && this.clock.monotonicMs() < this.observedAtMs + heldMs) return false;
    const renewing = holder === identity;
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: renewing ? (current.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: (current.leaseTransitions ?? 0) + (renewing ? 0 : 1),
    };
    return this.write(() => this.client.update(leasesRef, { ...lease, spec }), spec);
  }

  /** Writes `spec`; losing a race to another candidate (409) is an ordinary "not this time". */
  private async write(send: () => Promise<Lease>, spec: LeaseSpec): Promise<boolean> {
    try {
      this.written = await send();
    } catch (err) {
      this.written = undefined;
      if (isConflict(err) || isAlreadyExists(err)) return false;
      throw err;
    }
    this.observed = spec;
    this.observedAtMs = this.clock.monotonicMs();
    return true;
  }

  private async release(): Promise<void> {
    const { leaseName: name, namespace, identity } = this.config;
    try {
      const lease = await this.client.get<Lease>(leasesRef, { namespace, name });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = toMicroTime(this.clock.now());
      await this.client.update(leasesRef, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
      });
      this.log.info({ lease: name }, 'released the lease');
    } catch (err) {
      this.log.warn(
        { err: String(err), lease: name },
        'could not release the lease; a standby takes over when it expires',
      );
    }
  }

  /** Called on a change only: once leading after acquiring, once not after losing or releasing the Lease. */
  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.log.info(
      { lease: this.config.leaseName, identity: this.config.identity },
      leading ? 'became leader' : 'stopped leading',
    );
    if (leading) this.callbacks.onStartedLeading();
    else this.callbacks.onStoppedLeading();
  }
}
