import { loadConfig } from './config.js';
import { cgroupCpuLimit, parseCpuMax, workerCount } from './workers.js';

test.each([
  ['200000 100000\n', 2],
  ['150000 100000', 1.5],
  ['50000 100000', 0.5],
  ['max 100000', undefined],
  ['', undefined],
])('cpu.max %p is %p CPUs', (text, cpus) => {
  expect(parseCpuMax(text)).toBe(cpus);
});

test('the cgroup v2 limit, else v1, else none', () => {
  const files = (contents: Record<string, string>) => (path: string) => {
    if (!(path in contents)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return contents[path]!;
  };
  expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '400000 100000' }))).toBe(4);
  expect(
    cgroupCpuLimit(
      files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
    ),
  ).toBe(3);
  expect(
    cgroupCpuLimit(
      files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }),
    ),
  ).toBeUndefined();
  expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }))).toBeUndefined();
  expect(cgroupCpuLimit(files({}))).toBeUndefined();
});

test.each([
  ['auto', 4, 4],
  ['auto', 2.5, 2], // a fractional rest would only be throttled
  ['auto', 0.5, 1],
  ['auto', undefined, 1], // no limit: the pod's share of the node is unknown
  [3, undefined, 3],
  [1, 8, 1],
] as const)('WORKERS=%p with a limit of %p CPUs: %p workers', (setting, limit, expected) => {
  expect(workerCount(setting, limit)).toBe(expected);
});

test('WORKERS is auto by default, a number from 1, or a configuration error', () => {
  expect(loadConfig({ MODEL_URI: 'm' }).workers).toBe('auto');
  expect(loadConfig({ MODEL_URI: 'm', WORKERS: '4' }).workers).toBe(4);
  expect(() => loadConfig({ MODEL_URI: 'm', WORKERS: '0' })).toThrow(/WORKERS must be an integer from 1 to 1024/);
  expect(() => loadConfig({ MODEL_URI: 'm', WORKERS: 'all' })).toThrow(/WORKERS must be an integer/);
});
