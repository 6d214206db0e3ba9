import { isDeepStrictEqual } from 'node:util';
import pino from 'pino';
import type { Client } from './client.js';
import { toMicroTime } from './clock.js';
import { FakeClock } from './testing/fake-clock.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js';
import { LeaderElector, type LeaderElectionConfig, type LeaseSpec } from './leader-election.js';
import type { KubernetesObject } from './types.js';

type Lease = KubernetesObject & { spec?: LeaseSpec };

/** The only resource the fake API serves. */
const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

/** One Lease with resourceVersion checks, like the API server; `partitioned` cuts one replica off. */
class FakeLeaseApi {
  lease: Lease | undefined;
  private rv = 0;
  readonly partitioned = new Set<string>();
  /** Requests from these replicas never answer (packets dropped, no RST). */
  readonly blackholed = new Set<string>();
  /** Requests from these replicas wait until the promise settles (a slow API server). */
  readonly stalled = new Map<string, Promise<void>>();
  /** Reads by these replicas fail with an error other than NotFound (RBAC forbids the get, say). */
  readonly readFails = new Set<string>();
  /** Creates and updates by these replicas are refused with an error other than a conflict (RBAC forbids them). */
  readonly writeFails = new Set<string>();
  /** Requests by verb and replica: "get a", "update b". */
  readonly requests: string[] = [];

  clientFor(identity: string): Client {
    const guard = async (verb: string, ref: unknown): Promise<void> => {
      this.requests.push(`${verb} ${identity}`);
      if (!isDeepStrictEqual(ref, LEASES)) throw new NotFoundError(404, 'NotFound', 'the server does not serve it');
      if (this.partitioned.has(identity)) throw new Error('connection refused');
      if (this.blackholed.has(identity)) await new Promise(() => {});
      await this.stalled.get(identity);
      if (verb !== 'get' && this.writeFails.has(identity)) throw new Error('forbidden');
    };
    return {
      get: async (ref: unknown, key: { namespace?: string; name: string }) => {
        await guard('get', ref);
        if (this.readFails.has(identity)) throw new Error('forbidden');
        const at = this.lease?.metadata;
        if (!at || at.namespace !== key.namespace || at.name !== key.name)
          throw new NotFoundError(404, 'NotFound', 'no lease');
        return structuredClone(this.lease);
      },
      create: async (ref: unknown, obj: Lease) => {
        await guard('create', ref);
        if (this.lease) throw new AlreadyExistsError(409, 'AlreadyExists', 'exists');
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        return this.lease;
      },
      update: async (ref: unknown, obj: Lease) => {
        await guard('update', ref);
        if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
          throw new ConflictError(409, 'Conflict', 'stale');
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        return this.lease;
      },
    } as unknown as Client;
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function candidate(
  api: FakeLeaseApi,
  clock: FakeClock,
  identity: string,
  log = pino({ level: 'silent' }),
  config: Partial<LeaderElectionConfig> = {},
) {
  const events: string[] = [];
  const elector = new LeaderElector(
    api.clientFor(identity),
    {
      leaseName: 'op',
      namespace: 'ns',
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      ...config,
    },
    { onStartedLeading: () => events.push('started'), onStoppedLeading: () => events.push('stopped') },
    clock,
    log,
  );
  return { elector, events };
}

/** Two candidates on one Lease: `a` starts first and leads, `b` stands by. */
async function leaderAndStandby() {
  const api = new FakeLeaseApi();
  const clock = new FakeClock();
  const a = candidate(api, clock, 'a');
  const b = candidate(api, clock, 'b');
  a.elector.start();
  await flush();
  b.elector.start();
  await flush();
  return { api, clock, a, b };
}

async function advance(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    await flush();
  }
}

/** Advances the fake clock in 100 ms steps until `done()`, returning the time it took. */
async function runUntil(clock: FakeClock, done: () => boolean, limitMs = 120_000): Promise<number> {
  const start = clock.monotonicMs();
  while (!done()) {
    if (clock.monotonicMs() - start > limitMs) throw new Error('condition not reached');
    clock.advance(100);
    await flush();
  }
  return clock.monotonicMs() - start;
}

/** Runs `fn` with Math.random() pinned to `value`, so the retry jitter is known. */
async function withRandom(value: number, fn: () => Promise<void>): Promise<void> {
  const random = Math.random;
  Math.random = () => value;
  try {
    await fn();
  } finally {
    Math.random = random;
  }
}

/** A logger at `level` (warn unless told) whose lines land in `lines`. */
function captureLog(level = 'warn') {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

/** A lone candidate `a` started on a fresh Lease, so it leads; its log lines at `logLevel` (warn) land in `lines`. */
async function soleLeader(options: { logLevel?: string; config?: Partial<LeaderElectionConfig> } = {}) {
  const api = new FakeLeaseApi();
  const clock = new FakeClock();
  const { log, lines } = captureLog(options.logLevel);
  const a = candidate(api, clock, 'a', log, options.config);
  a.elector.start();
  await flush();
  return { api, clock, a, lines };
}

describe('LeaderElector', () => {
  test('exactly one of two candidates leads, and keeps leading while it renews', async () => {
    const { api, clock, a, b } = await leaderAndStandby();
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    await advance(clock, 60_000); // a minute of renewals
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0 });
    await a.elector.stop();
    await b.elector.stop();
  });

  test("a leader renews with one PUT of the Lease it last wrote, not a GET and a PUT (client-go's fast path)", async () => {
    const { api, clock, a, b } = await leaderAndStandby();
    api.requests.length = 0;
    await advance(clock, 20_000); // ten renewals
    const byA = api.requests.filter((r) => r.endsWith(' a'));
    expect(byA).toEqual(Array(10).fill('update a'));
    expect(api.lease?.spec?.holderIdentity).toBe('a');
    // someone else wrote the Lease meanwhile: the renewal as last written conflicts, and a reads it again
    api.lease = { ...api.lease!, metadata: { ...api.lease!.metadata, resourceVersion: '999' } };
    api.requests.length = 0;
    await advance(clock, 2_000);
    expect(api.requests.filter((r) => r.endsWith(' a'))).toEqual(['update a', 'get a', 'update a']);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
    await b.elector.stop();
  });

  test('a leader cut off from the API stops leading within renewDeadline; the standby takes over after leaseDuration', async () => {
    const { api, clock, a, b } = await leaderAndStandby();
    clock.advance(5_000);
    await flush();
    api.partitioned.add('a');
    const lostAfter = await runUntil(clock, () => !a.elector.isLeader());
    expect(lostAfter).toBeLessThanOrEqual(10_000 + 2_000);
    const takeover = lostAfter + (await runUntil(clock, () => b.elector.isLeader()));
    // b waits leaseDuration from when it first saw a's last renewal (≤ retryPeriod before the cut,
    // seen ≤ one jittered retry period after it) and acts on its next poll (≤ another jittered period)
    expect(takeover).toBeGreaterThanOrEqual(15_000 - 2_000);
    expect(takeover).toBeLessThanOrEqual(15_000 + 2 * 4_400);
    expect(a.events).toEqual(['started', 'stopped']);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.stop();
    await a.elector.stop();
  });

  test('a renewal that hangs does not keep a leader past its renew deadline', async () => {
    const { api, clock, a } = await soleLeader();
    api.blackholed.add('a');
    const lostAfter = await runUntil(clock, () => !a.elector.isLeader());
    expect(lostAfter).toBeLessThanOrEqual(10_000 + 2_000);
  });

  test('a renewal round longer than the retry period is logged, saying whether the timer or the request was slow', async () => {
    const { api, clock, a, lines } = await soleLeader();
    await advance(clock, 10_000); // renewals in time: nothing logged
    expect(lines).toEqual([]);
    let answer!: () => void;
    api.stalled.set('a', new Promise<void>((resolve) => (answer = resolve)));
    await advance(clock, 2_000 + 5_000); // the next renewal is sent and waits 5 s for its answer
    api.stalled.delete('a');
    answer();
    await flush();
    expect(lines).toEqual([expect.objectContaining({ msg: 'lease renewal slow', timerLateMs: 0, requestMs: 5_000 })]);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
  });

  test('stop() releases the lease and the standby takes over within a retry period', async () => {
    const { api, clock, a, b } = await leaderAndStandby();
    clock.advance(4_000);
    await flush();
    await a.elector.stop();
    expect(api.lease?.spec?.holderIdentity).toBe('');
    expect(a.events).toEqual(['started', 'stopped']);
    const takeover = await runUntil(clock, () => b.elector.isLeader());
    expect(takeover).toBeLessThanOrEqual(2_000 * 2.2 + 100);
    await b.elector.stop();
  });

  test('rejects timings where the leader could outlive its lease', () => {
    expect(
      () =>
        new LeaderElector(
          new FakeLeaseApi().clientFor('x'),
          { leaseName: 'l', namespace: 'n', identity: 'x', leaseDurationMs: 5_000, renewDeadlineMs: 6_000 },
          { onStartedLeading() {}, onStoppedLeading() {} },
          new FakeClock(),
          pino({ level: 'silent' }),
        ),
    ).toThrow();
  });
  test('the first candidate creates the Lease, holding it for leaseDuration in whole seconds', async () => {
    const { api, clock, a } = await soleLeader();
    const now = toMicroTime(clock.now());
    expect(api.lease).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { namespace: 'ns', name: 'op', resourceVersion: '1' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    });
    expect(a.events).toEqual(['started']);
    await a.elector.stop();
  });

  test('without timings, the defaults apply: renewals every 2 s, leadership lost within 10 s of failing renewals', async () => {
    const { api, clock, a } = await soleLeader({
      config: {
        leaseDurationMs: undefined,
        renewDeadlineMs: undefined,
        retryPeriodMs: undefined,
      },
    });
    api.requests.length = 0;
    await advance(clock, 20_000);
    expect(api.requests).toEqual(Array(10).fill('update a'));
    api.partitioned.add('a');
    const lostAfter = await runUntil(clock, () => !a.elector.isLeader());
    expect(lostAfter).toBeGreaterThanOrEqual(10_000 - 2_000);
    expect(lostAfter).toBeLessThanOrEqual(10_000 + 2_000);
  });

  test('configured timings are honoured: renewals every retryPeriod, leadership lost within renewDeadline', async () => {
    const { api, clock, a } = await soleLeader({
      config: {
        leaseDurationMs: 8_000,
        renewDeadlineMs: 5_000,
        retryPeriodMs: 1_000,
      },
    });
    api.requests.length = 0;
    await advance(clock, 10_000);
    expect(api.requests).toEqual(Array(10).fill('update a'));
    expect(api.lease?.spec?.leaseDurationSeconds).toBe(8);
    api.partitioned.add('a');
    const lostAfter = await runUntil(clock, () => !a.elector.isLeader());
    expect(lostAfter).toBeLessThanOrEqual(5_000 + 1_000);
  });

  test.each([
    [10_000, 10_000, 2_000],
    [15_000, 10_000, 10_000],
    [15_000, 2_000, 10_000],
  ])('rejects leaseDuration %d, renewDeadline %d, retryPeriod %d: each must exceed the next', (lease, renew, retry) => {
    expect(
      () =>
        new LeaderElector(
          new FakeLeaseApi().clientFor('x'),
          {
            leaseName: 'l',
            namespace: 'n',
            identity: 'x',
            leaseDurationMs: lease,
            renewDeadlineMs: renew,
            retryPeriodMs: retry,
          },
          { onStartedLeading() {}, onStoppedLeading() {} },
          new FakeClock(),
          pino({ level: 'silent' }),
        ),
    ).toThrow('leader election needs leaseDuration > renewDeadline > retryPeriod');
  });

  test.each([
    [0, 2_000],
    [0.5, 3_200],
  ])(
    'a standby retries every retryPeriod × (1 + jitter × 1.2): with jitter %d, every %d ms',
    async (jitter, intervalMs) => {
      await withRandom(jitter, async () => {
        const { api, clock, a, b } = await leaderAndStandby();
        const polls: number[] = [];
        let seen = api.requests.filter((r) => r === 'get b').length;
        while (clock.monotonicMs() < 16_000) {
          clock.advance(100);
          await flush();
          const now = api.requests.filter((r) => r === 'get b').length;
          if (now > seen) polls.push(clock.monotonicMs());
          seen = now;
        }
        expect(polls).toEqual(Array.from({ length: 16_000 / intervalMs }, (_, i) => (i + 1) * intervalMs));
        await a.elector.stop();
        await b.elector.stop();
      });
    },
  );

  test('a standby takes an abandoned Lease once the holder’s leaseDuration has passed since it first saw it', async () => {
    await withRandom(0, async () => {
      const api = new FakeLeaseApi();
      const clock = new FakeClock();
      const then = '2025-12-31T23:00:00.000000Z';
      api.lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { namespace: 'ns', name: 'op', resourceVersion: '100' },
        spec: {
          holderIdentity: 'x',
          leaseDurationSeconds: 60,
          acquireTime: then,
          renewTime: then,
          leaseTransitions: 3,
        },
      };
      const b = candidate(api, clock, 'b');
      b.elector.start();
      await flush();
      // polls every 2 s (no jitter): the Lease is free at exactly 60 s, judged by the holder's 60 s, not b's own 15 s
      expect(await runUntil(clock, () => b.elector.isLeader())).toBe(60_000);
      const now = toMicroTime(clock.now());
      expect(api.lease.spec).toEqual({
        holderIdentity: 'b',
        leaseDurationSeconds: 15,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 4,
      });
      await b.elector.stop();
    });
  });

  test('a leader that reads its Lease again renews it as the same holder: acquireTime and leaseTransitions are kept', async () => {
    const { api, clock, a, b } = await leaderAndStandby();
    const acquired = api.lease!.spec!.acquireTime;
    await advance(clock, 4_000);
    api.lease = { ...api.lease!, metadata: { ...api.lease!.metadata, resourceVersion: '999' } };
    api.requests.length = 0;
    await advance(clock, 2_000);
    expect(api.requests.filter((r) => r.endsWith(' a'))).toEqual(['update a', 'get a', 'update a']);
    expect(api.lease?.spec).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: acquired,
      renewTime: toMicroTime(clock.now()),
      leaseTransitions: 0,
    });
    await a.elector.stop();
    await b.elector.stop();
  });

  test('a leader keeps leading through a renewal that fails, once it renews again within renewDeadline', async () => {
    const { api, clock, a, lines } = await soleLeader({ logLevel: 'debug' });
    await advance(clock, 12_000);
    api.partitioned.add('a');
    await advance(clock, 2_000); // the renewal at 14 s fails: as last written (debug), then reading the Lease (warn)
    expect(lines.filter((line) => line.level !== 30)).toEqual([
      expect.objectContaining({
        level: 20,
        msg: 'renewing the lease as last written failed; reading it',
        err: 'Error: connection refused',
        lease: 'op',
      }),
      expect.objectContaining({ level: 40, msg: 'lease request failed', err: 'Error: connection refused' }),
    ]);
    api.partitioned.delete('a');
    api.requests.length = 0;
    await advance(clock, 20_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.events).toEqual(['started']);
    expect(api.requests.slice(0, 3)).toEqual(['get a', 'update a', 'update a']);
    expect(api.lease?.spec?.renewTime).toBe(toMicroTime(clock.now()));
    await a.elector.stop();
  });

  test('a renewal round of exactly the retry period is not reported as slow', async () => {
    const { api, clock, a, lines } = await soleLeader();
    await advance(clock, 10_000);
    let answer!: () => void;
    api.stalled.set('a', new Promise<void>((resolve) => (answer = resolve)));
    await advance(clock, 2_000 + 2_000); // the renewal at 12 s waits 2 s for its answer
    api.stalled.delete('a');
    answer();
    await flush();
    expect(lines).toEqual([]);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
  });

  test('a candidate that cannot read the Lease (an error other than NotFound) does not create it', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    api.readFails.add('a');
    a.elector.start();
    await flush();
    await advance(clock, 20_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(api.lease).toBeUndefined();
    expect(new Set(api.requests)).toEqual(new Set(['get a']));
    await a.elector.stop();
  });

  test('a write refused for another reason than a lost race (RBAC, say) is warned about: the candidate says why it never leads', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const { log, lines } = captureLog();
    const a = candidate(api, clock, 'a', log);
    api.writeFails.add('a');
    a.elector.start();
    await flush();
    expect(a.elector.isLeader()).toBe(false);
    expect(api.requests).toEqual(['get a', 'create a']);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'lease request failed', err: 'Error: forbidden', lease: 'op' }),
    ]);
    await a.elector.stop();
  });

  test('losing the race to create the Lease is an ordinary "not this time": no warning', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const { log, lines } = captureLog();
    const a = candidate(api, clock, 'a');
    const b = candidate(api, clock, 'b', log);
    a.elector.start();
    b.elector.start();
    await flush();
    expect(api.requests).toContain('create b');
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(lines).toEqual([]);
    await a.elector.stop();
    await b.elector.stop();
  });

  test('stop() on a standby sends nothing and calls no callback', async () => {
    const { api, a, b } = await leaderAndStandby();
    api.requests.length = 0;
    await b.elector.stop();
    expect(api.requests).toEqual([]);
    expect(b.events).toEqual([]);
    expect(b.elector.isLeader()).toBe(false);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
  });

  test('stop() on a leader renews no more: it only releases the Lease, and leaves no timer behind', async () => {
    const { api, clock, a } = await soleLeader();
    await advance(clock, 3_000);
    api.requests.length = 0;
    await a.elector.stop();
    expect(api.requests).toEqual(['get a', 'update a']);
    expect(api.lease?.spec?.holderIdentity).toBe('');
    expect(clock.pendingTimers()).toBe(0);
  });

  test('with releaseOnStop false, stop() leaves the Lease held until it expires', async () => {
    const { api, clock, a } = await soleLeader({ config: { releaseOnStop: false } });
    await advance(clock, 3_000);
    api.requests.length = 0;
    await a.elector.stop();
    expect(api.requests).toEqual([]);
    expect(api.lease?.spec?.holderIdentity).toBe('a');
    expect(a.events).toEqual(['started', 'stopped']);
    expect(a.elector.isLeader()).toBe(false);
  });

  test.each([
    ['another replica holds by now', (spec?: LeaseSpec): LeaseSpec | undefined => ({ ...spec, holderIdentity: 'x' })],
    ['someone has stripped of its spec', (): LeaseSpec | undefined => undefined],
  ])('stop() leaves alone, without a warning, a Lease that %s', async (_case, respec) => {
    const { api, a, lines } = await soleLeader();
    const { spec, ...rest } = api.lease!;
    const changed = respec(spec);
    api.lease = {
      ...rest,
      metadata: { ...rest.metadata, resourceVersion: '999' },
      ...(changed ? { spec: changed } : {}),
    };
    await a.elector.stop();
    expect(api.lease.spec).toEqual(changed);
    expect(a.events).toEqual(['started', 'stopped']);
    expect(lines).toEqual([]);
  });

  test('failed lease requests are warned about, and stop() cut off from the API still stops leading', async () => {
    const { api, clock, a, lines } = await soleLeader();
    api.partitioned.add('a');
    await advance(clock, 2_000);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'lease request failed', err: 'Error: connection refused', lease: 'op' }),
    ]);
    await a.elector.stop();
    expect(a.events).toEqual(['started', 'stopped']);
    expect(api.lease?.spec?.holderIdentity).toBe('a');
    expect(lines[1]).toEqual(
      expect.objectContaining({
        msg: 'could not release the lease; a standby takes over when it expires',
        err: 'Error: connection refused',
        lease: 'op',
      }),
    );
  });
  test('losing leadership is logged as an error naming the lease', async () => {
    const { api, clock, a, lines } = await soleLeader({ logLevel: 'error' });
    api.blackholed.add('a');
    await runUntil(clock, () => !a.elector.isLeader());
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'could not renew the lease within the renew deadline; leadership lost',
        lease: 'op',
      }),
    ]);
  });

  test('becoming leader, releasing the Lease and stopping are logged with the lease and identity', async () => {
    const { a, lines } = await soleLeader({ logLevel: 'info' });
    await a.elector.stop();
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'became leader', lease: 'op', identity: 'a' }),
      expect.objectContaining({ msg: 'released the lease', lease: 'op' }),
      expect.objectContaining({ msg: 'stopped leading', lease: 'op', identity: 'a' }),
    ]);
  });
});
