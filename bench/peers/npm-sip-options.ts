/**
 * The comparison peer for the sip-options benchmark: npm `sip` 0.0.6 (the library this project
 * decided against) answering OPTIONS with 200 on UDP, run as a child process by bench/sip-options.ts.
 * Usage: node npm-sip-options.js PORT — prints "ready" when listening.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sip = require('sip') as {
  start(opts: { port: number; address: string; udp: boolean; tcp: boolean; publicAddress?: string }, onRequest: (rq: unknown) => void): void;
  send(msg: unknown): void;
  makeResponse(rq: unknown, status: number, reason: string): unknown;
};

const port = Number(process.argv[2]);
sip.start({ port, address: '127.0.0.1', publicAddress: '127.0.0.1', udp: true, tcp: false }, (rq) => {
  sip.send(sip.makeResponse(rq, 200, 'OK'));
});
console.log('ready');
