/**
 * OPTIONS transactions per second against one gateway process (a child process on loopback), over UDP
 * and over persistent TLS connections, and the gateway's memory per idle TLS connection.
 * The load generator runs in this process: a window of outstanding requests, one new request per
 * response, for a fixed time. Targets (issue 2): ≥ 20,000/s UDP, ≥ 10,000/s TLS, ≤ 30 kB per idle TLS
 * connection.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startGateway, type GatewayProcess } from '../test/helpers/gateway-process';
import { pinApart, unpinProcess } from './pin';
import { median } from './median';

/** A UDP port nothing listens on right now (bound, read, released). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** npm `sip` 0.0.6 answering OPTIONS, measured with the same load in the same run. */
async function npmSipRate(port: number): Promise<{ tps: number; perSecond: number[]; cpuUsPerTx: number; capacity: number }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'peers', 'npm-sip-options.js'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`npm sip peer exited ${c}`)));
  });
  try {
    pinApart(child.pid!);
    return await measured(child.pid!, () => udpRate(port));
  } finally {
    child.kill('SIGKILL');
  }
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 256);

function options(transport: string, port: number, n: number, lport: number): Buffer {
  const id = n.toString(16).padStart(12, '0');
  return Buffer.from(
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\n` +
      `Via: SIP/2.0/${transport} 127.0.0.1:${lport};branch=z9hG4bK${id}\r\n` +
      'Max-Forwards: 70\r\n' +
      `To: <sip:127.0.0.1:${port}>\r\n` +
      `From: <sip:bench@127.0.0.1>;tag=${id}\r\n` +
      `Call-ID: ${id}@bench\r\n` +
      'CSeq: 1 OPTIONS\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
}


/** Counts 200 responses per second over UDP with WINDOW requests in flight. */
async function udpRate(port: number): Promise<{ tps: number; perSecond: number[] }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const lport = sock.address().port;
  let n = 0;
  let ok = 0;
  const perSecond: number[] = [];
  const send = (): void => sock.send(options('UDP', port, n++, lport), port, '127.0.0.1');
  sock.on('message', (m) => {
    if (m[8] === 0x32 && m[9] === 0x30 && m[10] === 0x30) ok++; // "SIP/2.0 200"
    send();
  });
  for (let i = 0; i < WINDOW; i++) send();
  // Keep the window full even if datagrams are lost: top it up every 100 ms.
  const topUp = setInterval(() => {
    for (let i = 0; i < 16; i++) send();
  }, 100);
  for (let s = 0; s < SECONDS; s++) {
    const before = ok;
    await new Promise((r) => setTimeout(r, 1000));
    perSecond.push(ok - before);
  }
  clearInterval(topUp);
  sock.close();
  return { tps: median(perSecond.slice(1)), perSecond };
}

/** Counts 200 responses per second over CONNS persistent TLS connections. */
async function tlsRate(gw: GatewayProcess, ca: Buffer, conns = 16): Promise<{ tps: number; perSecond: number[] }> {
  let ok = 0;
  let n = 0;
  const sockets: tls.TLSSocket[] = [];
  const marker = Buffer.from('SIP/2.0 200');
  for (let c = 0; c < conns; c++) {
    const s = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ host: '127.0.0.1', port: gw.tls.port, ca, servername: 'localhost' }, () => resolve(t));
      t.once('error', reject);
    });
    const lport = s.localPort ?? 0;
    let tail: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      const buf = tail.length ? Buffer.concat([tail, d]) : d;
      let i = 0;
      let got = 0;
      while ((i = buf.indexOf(marker, i)) >= 0) {
        got++;
        i += marker.length;
      }
      tail = buf.subarray(Math.max(0, buf.length - marker.length + 1));
      ok += got;
      const batch: Buffer[] = [];
      for (let k = 0; k < got; k++) batch.push(options('TLS', gw.tls.port, n++, lport));
      if (batch.length) s.write(Buffer.concat(batch));
    });
    s.on('error', () => undefined);
    const first: Buffer[] = [];
    for (let k = 0; k < WINDOW / conns; k++) first.push(options('TLS', gw.tls.port, n++, lport));
    s.write(Buffer.concat(first));
    sockets.push(s);
  }
  const perSecond: number[] = [];
  for (let s = 0; s < SECONDS; s++) {
    const before = ok;
    await new Promise((r) => setTimeout(r, 1000));
    perSecond.push(ok - before);
  }
  for (const s of sockets) s.destroy();
  return { tps: median(perSecond.slice(1)), perSecond };
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/**
 * The server's own capacity, independent of the load generator sharing the machine: CPU time it
 * spent per answered transaction during the window, and the transactions/s one fully busy core gives.
 */
async function measured<T extends { perSecond: number[] }>(pid: number, fn: () => Promise<T>): Promise<T & { cpuUsPerTx: number; capacity: number }> {
  const before = cpuSeconds(pid);
  const r = await fn();
  const used = cpuSeconds(pid) - before;
  const total = r.perSecond.reduce((a, b) => a + b, 0);
  const cpuUsPerTx = total > 0 ? (used * 1e6) / total : NaN;
  return { ...r, cpuUsPerTx: +cpuUsPerTx.toFixed(1), capacity: Math.round(1e6 / cpuUsPerTx) };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Opens COUNT idle TLS connections and measures the gateway's resident-memory growth per connection. */
async function idleTlsMemory(gw: GatewayProcess, ca: Buffer, count = 2000): Promise<number> {
  const pid = gw.child.pid!;
  await new Promise((r) => setTimeout(r, 1500));
  const before = rssKb(pid);
  const sockets: tls.TLSSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: 50 }, () =>
        new Promise<tls.TLSSocket>((resolve, reject) => {
          const t = tls.connect({ host: '127.0.0.1', port: gw.tls.port, ca, servername: 'localhost' }, () => resolve(t));
          t.once('error', reject);
        }),
      ),
    );
    sockets.push(...batch);
  }
  await new Promise((r) => setTimeout(r, 3000));
  const after = rssKb(pid);
  for (const s of sockets) s.destroy();
  return ((after - before) * 1024) / count;
}

export async function run(): Promise<Record<string, number | string>> {
  // Memory is measured on a fresh gateway, before any load has grown its heap.
  let perConn: number;
  const fresh = await startGateway(['--set', 'sip.maxConnections=10000']);
  try {
    perConn = await idleTlsMemory(fresh, fs.readFileSync(`${fresh.dataDir}/tls/cert.pem`));
  } finally {
    await fresh.stop();
  }
  const gw = await startGateway(['--set', 'sip.maxConnections=10000']);
  try {
    const ca = fs.readFileSync(`${gw.dataDir}/tls/cert.pem`);
    const pinned = pinApart(gw.child.pid!);
    const udp = await measured(gw.child.pid!, () => udpRate(gw.udp.port));
    const peer = await npmSipRate(await freeUdpPort());
    const tlsr = await measured(gw.child.pid!, () => tlsRate(gw, ca));
    return {
      udp_tps: udp.tps,
      udp_per_second: udp.perSecond.join(' '),
      udp_target: 20000,
      udp_cpu_us_per_tx: udp.cpuUsPerTx,
      udp_capacity_one_core: udp.capacity,
      npm_sip_cpu_us_per_tx: peer.cpuUsPerTx,
      npm_sip_capacity_one_core: peer.capacity,
      npm_sip_udp_tps: peer.tps,
      npm_sip_per_second: peer.perSecond.join(' '),
      udp_ratio_vs_npm_sip: +(udp.tps / peer.tps).toFixed(2),
      tls_tps: tlsr.tps,
      tls_per_second: tlsr.perSecond.join(' '),
      tls_target: 10000,
      tls_cpu_us_per_tx: tlsr.cpuUsPerTx,
      tls_capacity_one_core: tlsr.capacity,
      idle_tls_bytes_per_conn: Math.round(perConn),
      idle_tls_target_bytes: 30000,
      seconds: SECONDS,
      window: WINDOW,
      pinned: pinned ? 'server and generator on separate cores' : 'no',
    };
  } finally {
    unpinProcess();
    await gw.stop();
  }
}
