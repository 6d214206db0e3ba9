// Logs are pino JSON lines. Each reconcile gets a child logger carrying the controller, a fresh
// reconcileID and the object's key, so one pass can be followed across interleaved workers.
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { ObjectKey } from './types.js';

export type { Logger };

/**
 * The operator's root logger: JSON to stdout, level from LOG_LEVEL (default info). Its name goes in `logger`, as
 * controller-runtime's does: `name` is the reconciled object's (pino's own `name` option wrote that key twice).
 */
export function createLogger(opts: { name?: string; level?: string } = {}): Logger {
  return pino({ level: opts.level ?? process.env.LOG_LEVEL ?? 'info' }).child({
    logger: opts.name ?? 'modelops-operator',
  });
}

export function reconcileLogger(controllerLog: Logger, key: ObjectKey): Logger {
  return controllerLog.child({ reconcileID: randomUUID(), namespace: key.namespace, name: key.name });
}
