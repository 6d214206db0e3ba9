// A local address where nothing listens, for tests of what a client does with a refused connection.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `http://127.0.0.1:<port>` of a port just listened on and closed again: connecting is refused. */
export async function refusedUrl(): Promise<string> {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise((resolve) => closed.close(resolve));
  return `http://127.0.0.1:${port}`;
}
