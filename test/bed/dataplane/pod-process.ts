// One serving pod run for real: the process listens on the pod's IP (an address added to the loopback
// interface), its readiness is probed as a kubelet would and written to the pod's status, a crash is restarted
// with back-off (restartPolicy Always), and it is stopped with SIGTERM when the pod goes.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import http from 'node:http';
import type { Launch } from './launch.js';

const PROBE_PERIOD_MS = 250;
const PROBE_TIMEOUT_MS = 1000;
const STOP_GRACE_MS = 5000;
const MAX_RESTART_DELAY_MS = 10_000;

export interface PodProcessHost {
  /** The serving entry point: `node <script> --modelops-bed=<marker>` (the marker lets `down` find strays). */
  command(): Promise<{ file: string; args: string[] }>;
  addAddress(ip: string): Promise<void>;
  removeAddress(ip: string): Promise<void>;
  /** Writes readiness and restarts into the pod's status; failures (the pod is gone) are the host's to ignore. */
  reportStatus(launch: Launch, status: ContainerReport): Promise<void>;
  logFile(launch: Launch): string;
  changed(): void;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface ContainerReport {
  ready: boolean;
  restartCount: number;
  startedAt: string;
}

export interface PodProcessState {
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  port: number;
  pid: number | undefined;
  ready: boolean;
  restarts: number;
  /** Milliseconds from spawning the process to its first successful readiness probe, per start. */
  startMs: number[];
  log: string;
}

export class PodProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private ready = false;
  private restarts = 0;
  private startedAt = new Date();
  private spawnedAt = 0;
  private readonly startMs: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private probing: http.ClientRequest | undefined;
  /** Status writes in the order the transitions happened. */
  private reporting: Promise<void> = Promise.resolve();

  constructor(
    readonly launch: Launch,
    private readonly host: PodProcessHost,
  ) {}

  state(): PodProcessState {
    const { namespace, name, uid, ip, port } = this.launch;
    return {
      ...{ namespace, name, uid, ip, port },
      pid: this.child?.pid,
      ready: this.ready,
      restarts: this.restarts,
      startMs: [...this.startMs],
      log: this.host.logFile(this.launch),
    };
  }

  async start(): Promise<void> {
    await this.host.addAddress(this.launch.ip);
    await this.spawn();
  }

  /** SIGTERM, then SIGKILL after the grace period; the address is removed once the process has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.probing?.destroy();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
    }
    await this.host.removeAddress(this.launch.ip);
  }

  private async spawn(): Promise<void> {
    if (this.stopping) return;
    const { file, args } = await this.host.command();
    // The process writes its log file itself: it never depends on the runner being alive to take its output.
    const log = openSync(this.host.logFile(this.launch), 'a');
    this.spawnedAt = performance.now();
    this.startedAt = new Date();
    const child = spawn(file, args, { env: this.launch.env, stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.onExit(code, signal);
        resolve();
      }),
    );
    this.host.changed();
    this.scheduleProbe(0);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.timer);
    if (this.stopping) return;
    this.restarts++;
    const delay = Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** Math.min(this.restarts - 1, 5));
    this.host.log('serving process exited; restarting', { pod: this.key(), code, signal, inMs: delay });
    this.setReady(false);
    this.timer = setTimeout(() => void this.spawn(), delay);
  }

  private scheduleProbe(delayMs: number): void {
    this.timer = setTimeout(() => void this.probe(), delayMs);
  }

  private async probe(): Promise<void> {
    if (this.stopping) return;
    const ok = await this.get(this.launch.readinessPath);
    if (this.stopping || !this.child || this.child.exitCode !== null) return;
    if (ok && this.startMs.length < this.restarts + 1) {
      const ms = Math.round(performance.now() - this.spawnedAt);
      this.startMs.push(ms);
      this.host.log('serving process ready', { pod: this.key(), ip: this.launch.ip, startMs: ms });
    }
    this.setReady(ok);
    this.scheduleProbe(PROBE_PERIOD_MS);
  }

  private setReady(ready: boolean): void {
    if (ready === this.ready) return;
    this.ready = ready;
    this.host.changed();
    const report = { ready, restartCount: this.restarts, startedAt: this.startedAt.toISOString() };
    this.reporting = this.reporting.then(() => this.host.reportStatus(this.launch, report));
  }

  private get(path: string): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.get(
        { host: this.launch.ip, port: this.launch.readinessPort, path, timeout: PROBE_TIMEOUT_MS, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
        },
      );
      this.probing = req;
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }

  private key(): string {
    return `${this.launch.namespace}/${this.launch.name}`;
  }
}
