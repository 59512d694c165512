/**
 * Entry point of a media worker thread (node:worker_threads): one RelayHost driven by messages
 * from the engine's RelayPool. Requests carry an id and get exactly one reply; host events are
 * posted as they happen.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RelayHost } from './host';
import type { RelayCommand, RelaySettings } from './protocol';

export type WorkerRequest = { readonly id: number; readonly cmd: RelayCommand } | { readonly id: number; readonly shutdown: true };

const port = parentPort;
if (!port) throw new Error('media/relay/worker.js must run in a worker thread');

const settings = (workerData as { settings: RelaySettings }).settings;
const host = new RelayHost({ ...settings, emit: (event) => port.postMessage({ event }) });

port.on('message', (msg: WorkerRequest) => {
  if ('shutdown' in msg) {
    host.close();
    port.postMessage({ id: msg.id, ok: true, reply: null });
    port.close();
    return;
  }
  host.handle(msg.cmd).then(
    (reply) => port.postMessage({ id: msg.id, ok: true, reply }),
    (err: unknown) => port.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
