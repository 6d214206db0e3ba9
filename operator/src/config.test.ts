import { parseConfig } from './config.js';

describe('parseConfig', () => {
  test('defaults', () => {
    expect(parseConfig([], {})).toMatchObject({
      leaderElect: false,
      leaderElectionNamespace: 'modelops-system',
      namespaces: undefined,
      prometheusUrl: undefined,
      metricsPort: 8080,
      healthPort: 8081,
      workers: 32,
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
        '--namespaces=ml, ml-staging,ml',
      ],
      { POD_NAME: 'op-1', LOG_LEVEL: 'debug' },
    );
    expect(config).toMatchObject({
      leaderElect: true,
      leaderElectionNamespace: 'ops',
      metricsPort: 9090,
      workers: 8,
      prometheusUrl: 'http://prom:9090',
      namespaces: ['ml', 'ml-staging'],
      identity: 'op-1',
      logLevel: 'debug',
    });
  });

  test.each([
    [['--workers=0'], '--workers must be a positive integer, got "0"'],
    [['--metrics-port=http'], '--metrics-port must be a port number (0-65535), got "http"'],
    [['--health-port=70000'], '--health-port must be a port number (0-65535), got "70000"'],
    [['--frobnicate'], "Unknown option '--frobnicate'"],
    [['--namespaces=ml,Not_A_Namespace'], '--namespaces: "Not_A_Namespace" is not a namespace name'],
    [['--namespaces=,'], '--namespaces needs at least one namespace (omit it to watch all)'],
    [['--prometheus-url=prometheus:9090'], '--prometheus-url must be an http(s) URL, got "prometheus:9090"'],
    [['--prometheus-url=http://admin:secret@prom:9090'], '--prometheus-url must not carry credentials'],
  ])('%j is refused: %s', (args, message) => {
    expect(() => parseConfig(args, {})).toThrow(message);
  });
});
