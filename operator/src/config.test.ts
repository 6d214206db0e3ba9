import { parseConfig } from './config.js';

describe('parseConfig', () => {
  test('defaults', () => {
    expect(parseConfig([], {})).toMatchObject({
      leaderElect: false,
      leaderElectionNamespace: 'modelops-system',
      metricsPort: 8080,
      healthPort: 8081,
      workers: 4,
      logLevel: 'info',
    });
  });

  test("the chart's flags and the pod's environment", () => {
    const config = parseConfig(
      [
        '--leader-elect',
        '--leader-election-namespace=ops',
        '--metrics-port=9090',
        '--workers=8',
        '--prometheus-url=http://prom:9090',
      ],
      { POD_NAME: 'op-1', LOG_LEVEL: 'debug' },
    );
    expect(config).toMatchObject({
      leaderElect: true,
      leaderElectionNamespace: 'ops',
      metricsPort: 9090,
      workers: 8,
      prometheusUrl: 'http://prom:9090',
      identity: 'op-1',
      logLevel: 'debug',
    });
  });

  test.each([
    [['--workers=0'], '--workers must be a positive integer, got "0"'],
    [['--metrics-port=http'], '--metrics-port must be a port number (0-65535), got "http"'],
    [['--health-port=70000'], '--health-port must be a port number (0-65535), got "70000"'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
  ])('%j is refused: %s', (args, message) => {
    expect(() => parseConfig(args, {})).toThrow(message);
  });
});
