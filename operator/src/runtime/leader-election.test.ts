import pino from 'pino';
import type { Client } from './client.js';
import { FakeClock } from './testing/fake-clock.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js';
import { LeaderElector, type LeaseSpec } from './leader-election.js';
import type { KubernetesObject } from './types.js';

type Lease = KubernetesObject & { spec?: LeaseSpec };

/** One Lease with resourceVersion checks, like the API server; `partitioned` cuts one replica off. */
class FakeLeaseApi {
  lease: Lease | undefined;
  private rv = 0;
  readonly partitioned = new Set<string>();
  /** Requests from these replicas never answer (packets dropped, no RST). */
  readonly blackholed = new Set<string>();
  /** Requests from these replicas wait until the promise settles (a slow API server). */
  readonly stalled = new Map<string, Promise<void>>();
  /** Requests by verb and replica: "get a", "update b". */
  readonly requests: string[] = [];

  clientFor(identity: string): Client {
    const guard = async (verb: string): Promise<void> => {
      this.requests.push(`${verb} ${identity}`);
      if (this.partitioned.has(identity)) throw new Error('connection refused');
      if (this.blackholed.has(identity)) await new Promise(() => {});
      await this.stalled.get(identity);
    };
    return {
      get: async () => {
        await guard('get');
        if (!this.lease) throw new NotFoundError(404, 'NotFound', 'no lease');
        return structuredClone(this.lease);
      },
      create: async (_ref: unknown, obj: Lease) => {
        await guard('create');
        if (this.lease) throw new AlreadyExistsError(409, 'AlreadyExists', 'exists');
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        return this.lease;
      },
      update: async (_ref: unknown, obj: Lease) => {
        await guard('update');
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

function candidate(api: FakeLeaseApi, clock: FakeClock, identity: string, log = pino({ level: 'silent' })) {
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
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const a = candidate(api, clock, 'a');
    a.elector.start();
    await flush();
    api.blackholed.add('a');
    const lostAfter = await runUntil(clock, () => !a.elector.isLeader());
    expect(lostAfter).toBeLessThanOrEqual(10_000 + 2_000);
  });

  test('a renewal round longer than the retry period is logged, saying whether the timer or the request was slow', async () => {
    const api = new FakeLeaseApi();
    const clock = new FakeClock();
    const lines: { msg: string; requestMs?: number; timerLateMs?: number }[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const a = candidate(api, clock, 'a', log);
    a.elector.start();
    await flush();
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
});
