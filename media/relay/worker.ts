/**
 * Entry point of a media worker thread (node:worker_threads): one RelayHost driven by messages
 * from the engine's RelayPool. Requests carry an id and get exactly one reply; host events are
 * posted as they happen.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RelayHost } from './host';
import type { RelayCommand, RelayEvent, RelaySettings } from './protocol';
import { setThreadNice, setThreadRealtime } from './thread-priority';

export type WorkerRequest = { readonly id: number; readonly cmd: RelayCommand } | { readonly id: number; readonly shutdown: true };

const port = parentPort;
if (!port) throw new Error('media/relay/worker.js must run in a worker thread');

const settings = (workerData as { settings: RelaySettings }).settings;
const host = new RelayHost({ ...settings, emit: (event) => port.postMessage({ event }) });
if (settings.nice !== undefined) port.postMessage({ event: applyNice(settings.nice) });
if (settings.realtime !== undefined) port.postMessage({ event: applyRealtime(settings.realtime.policy, settings.realtime.priority) });

/** media.nice for this thread, and the one log line that says how it went. */
function applyNice(nice: number): RelayEvent {
  const r = setThreadNice(nice);
  return r.ok
    ? { type: 'log', level: 'info', message: 'media: relay thread priority set', fields: { nice: r.nice, thread: r.thread } }
    : { type: 'log', level: 'warn', message: 'media: relay thread priority not set; the thread keeps the process\'s', fields: { nice, reason: r.reason } };
}

/** media.scheduling for this thread, and the one log line that says how it went. */
function applyRealtime(policy: 'fifo' | 'rr', priority: number): RelayEvent {
  const r = setThreadRealtime(policy, priority);
  return r.ok
    ? { type: 'log', level: 'info', message: 'media: relay thread scheduling set', fields: { policy: r.policy, priority: r.priority, thread: r.thread } }
    : { type: 'log', level: 'warn', message: 'media: relay thread scheduling not set; the thread stays with the fair scheduler', fields: { policy, priority, reason: r.reason } };
}

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
