// Baseline (b): a bare node:http server that reads and JSON-parses the same body and returns a fixed answer.
// The ceiling for any Node HTTP server on this request: what is left is the model and the protocol work.
import { createServer } from 'node:http';

const answer = JSON.stringify({
  model_name: 'fraud',
  model_version: '1',
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.9, 0.1] }],
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'POST') JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 8081), '127.0.0.1', () => console.log('listening'));
