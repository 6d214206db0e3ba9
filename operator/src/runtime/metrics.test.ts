import { Registry } from 'prom-client';
import { RuntimeMetrics } from './metrics.js';

/** The samples the registry would expose under `name` (a histogram's under name_bucket, _sum and _count). */
async function samples(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values.map((v) => ({
    name: (v as { metricName?: string }).metricName ?? name,
    labels: v.labels,
    value: v.value,
  }));
}

/** One sample's value; `sample` names a histogram's _sum, _count or _bucket sample. */
async function value(registry: Registry, name: string, labels: Record<string, string>, sample = name) {
  return (await samples(registry, name)).find(
    (s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

describe('RuntimeMetrics', () => {
  test('a registered controller exposes every series at zero, under controller-runtime names', async () => {
    const metrics = new RuntimeMetrics();
    metrics.registerController('trainingjob', 3);
    const total = await samples(metrics.registry, 'controller_runtime_reconcile_total');
    expect(total.map((s) => s.labels).sort((a, b) => String(a.result).localeCompare(String(b.result)))).toEqual([
      { controller: 'trainingjob', result: 'error' },
      { controller: 'trainingjob', result: 'requeue' },
      { controller: 'trainingjob', result: 'requeue_after' },
      { controller: 'trainingjob', result: 'success' },
    ]);
    expect(total.map((s) => s.value)).toEqual([0, 0, 0, 0]);
    const controller = { controller: 'trainingjob' };
    expect(await value(metrics.registry, 'controller_runtime_reconcile_errors_total', controller)).toBe(0);
    expect(await value(metrics.registry, 'controller_runtime_terminal_reconcile_errors_total', controller)).toBe(0);
    expect(await value(metrics.registry, 'controller_runtime_active_workers', controller)).toBe(0);
    expect(await value(metrics.registry, 'controller_runtime_max_concurrent_reconciles', controller)).toBe(3);
  });

  test('reconcile_time uses controller-runtime buckets, 5 ms to 60 s', async () => {
    const metrics = new RuntimeMetrics();
    metrics.reconcileTime.labels('trainingjob').observe(0.3);
    const buckets = (await samples(metrics.registry, 'controller_runtime_reconcile_time_seconds')).filter(
      (s) => s.name === 'controller_runtime_reconcile_time_seconds_bucket',
    );
    expect(buckets).toHaveLength(41); // 40 bounds and +Inf
    expect(buckets[0]!.labels.le).toBe(0.005);
    expect(buckets.at(-2)!.labels.le).toBe(60);
    expect(buckets.find((b) => b.labels.le === 0.3)!.value).toBe(1);
    expect(buckets.find((b) => b.labels.le === 0.25)!.value).toBe(0);
  });

  test('leader_election_master_status is labelled by lease name', async () => {
    const metrics = new RuntimeMetrics();
    metrics.leaderStatus.labels('modelops-operator').set(1);
    expect(await metrics.registry.getSingleMetricAsString('leader_election_master_status')).toContain(
      'leader_election_master_status{name="modelops-operator"} 1',
    );
  });

  test('rest_client_requests_total counts by method and code', async () => {
    const metrics = new RuntimeMetrics();
    metrics.restRequests.labels('GET', '200').inc();
    expect(await value(metrics.registry, 'rest_client_requests_total', { method: 'GET', code: '200' })).toBe(1);
  });

  test('rest_client_request_duration_seconds times requests by method, in client-go buckets', async () => {
    const metrics = new RuntimeMetrics();
    metrics.restLatency.labels('PATCH').observe(0.3);
    const name = 'rest_client_request_duration_seconds';
    const buckets = (await samples(metrics.registry, name))
      .filter((s) => s.name === `${name}_bucket` && s.labels.method === 'PATCH')
      .map((s) => [String(s.labels.le), s.value]);
    expect(Object.fromEntries(buckets)).toEqual({
      ...Object.fromEntries(['0.005', '0.025', '0.1', '0.25'].map((le) => [le, 0])),
      ...Object.fromEntries(['0.5', '1', '2', '4', '8', '15', '30', '60', '+Inf'].map((le) => [le, 1])),
    });
  });

  test('a queue exposes its depth, adds and retries at zero before any work', async () => {
    const metrics = new RuntimeMetrics();
    metrics.queueMetrics('trainingjob');
    const queue = { name: 'trainingjob' };
    expect(await value(metrics.registry, 'workqueue_depth', queue)).toBe(0);
    expect(await value(metrics.registry, 'workqueue_adds_total', queue)).toBe(0);
    expect(await value(metrics.registry, 'workqueue_retries_total', queue)).toBe(0);
  });

  test('the queue metrics record adds, depth, retries and both durations under client-go names', async () => {
    const metrics = new RuntimeMetrics();
    const q = metrics.queueMetrics('trainingjob');
    const queue = { name: 'trainingjob' };
    q.added();
    q.added();
    q.depth(2);
    q.retried();
    q.queueLatency(0.5);
    q.workDuration(2);
    q.workDuration(4);
    expect(await value(metrics.registry, 'workqueue_adds_total', queue)).toBe(2);
    expect(await value(metrics.registry, 'workqueue_depth', queue)).toBe(2);
    expect(await value(metrics.registry, 'workqueue_retries_total', queue)).toBe(1);
    expect(
      await value(
        metrics.registry,
        'workqueue_queue_duration_seconds',
        queue,
        'workqueue_queue_duration_seconds_count',
      ),
    ).toBe(1);
    expect(
      await value(metrics.registry, 'workqueue_queue_duration_seconds', queue, 'workqueue_queue_duration_seconds_sum'),
    ).toBe(0.5);
    expect(
      await value(metrics.registry, 'workqueue_work_duration_seconds', queue, 'workqueue_work_duration_seconds_count'),
    ).toBe(2);
    expect(
      await value(metrics.registry, 'workqueue_work_duration_seconds', queue, 'workqueue_work_duration_seconds_sum'),
    ).toBe(6);
  });

  test('the queue durations use client-go buckets: 10 ns to 1000 s, ×10 each', async () => {
    const metrics = new RuntimeMetrics();
    const q = metrics.queueMetrics('trainingjob');
    q.queueLatency(0.5);
    q.workDuration(0.5);
    for (const name of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds']) {
      const bounds = (await samples(metrics.registry, name))
        .filter((s) => s.name === `${name}_bucket` && s.labels.le !== '+Inf')
        .map((s) => Number(s.labels.le));
      expect(bounds).toHaveLength(12);
      bounds.forEach((le, i) => expect(le / 10 ** (i - 8)).toBeCloseTo(1, 9));
    }
  });

  test('each instance has its own registry, with the default process metrics', async () => {
    const a = new RuntimeMetrics();
    const b = new RuntimeMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.registerController('trainingjob', 1);
    b.registerController('trainingjob', 2);
    const max = { controller: 'trainingjob' };
    expect(await value(a.registry, 'controller_runtime_max_concurrent_reconciles', max)).toBe(1);
    expect(await value(b.registry, 'controller_runtime_max_concurrent_reconciles', max)).toBe(2);
    expect(a.registry.getSingleMetric('process_cpu_user_seconds_total')).toBeDefined();
  });
});
