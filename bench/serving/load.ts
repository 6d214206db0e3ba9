// Closed-loop HTTP load generator: `concurrency` keep-alive connections, each with one request outstanding,
// sending the same pre-serialised request for a fixed time. Raw sockets and a minimal response parser keep
// the generator's own cost per request low, so that one core of it can outrun one core of server.
// Prints one JSON line: requests, errors, status codes, throughput and latency percentiles (ms).
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runClosedLoop, type Loop } from './closed-loop.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    path: { type: 'string', default: '/v2/models/fraud/infer' },
    body: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '5000' },
  },
});
const port = Number(values.port);
const concurrency = Number(values.concurrency);
const body = readFileSync(values.body!);
const request = Buffer.concat([
  Buffer.from(
    `POST ${values.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
  ),
  body,
]);

const statuses = new Map<number, number>();
let errors = 0;
/** Every response, warm-up included: the server's CPU time is divided by this. */
let answered = 0;

function worker(loop: Loop): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buffer: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = (): void => {
      if (!loop.running) return void socket.end(resolve);
      sentAt = performance.now();
      socket.write(request);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const headerEnd = buffer.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const head = buffer.toString('latin1', 0, headerEnd);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      if (Number.isNaN(length)) throw new Error(`response without Content-Length: ${head}`);
      if (buffer.length < headerEnd + 4 + length) return;
      const status = Number(head.slice(9, 12));
      buffer = buffer.subarray(headerEnd + 4 + length);
      answered++;
      if (loop.record(performance.now() - sentAt)) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status !== 200) errors++;
      }
      send();
    });
    socket.on('error', () => {
      errors++;
      resolve();
    });
  });
}

const result = await runClosedLoop(concurrency, Number(values.warmup), Number(values.duration), worker);
console.log(JSON.stringify({ ...result, errors, answered, statuses: Object.fromEntries(statuses) }));
