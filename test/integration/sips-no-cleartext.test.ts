/**
 * RFC 3261 §26.2.2: a request to a sips: URI (or transport=tls) is never sent in clear. The target port
 * has plain UDP and TCP listeners but no TLS: the gateway must fail (503 to its transaction user) and
 * put no SIP text on the wire, which tshark, capturing on loopback, confirms.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import type { SipResponse } from '../../gateway/sip/message/message';
import { parseMessage } from '../../gateway/sip/message/parser';
import { parseUri } from '../../gateway/sip/message/uri';
import { SipRequest } from '../../gateway/sip/message/message';
import { targetForUri } from '../../gateway/sip/stack';
import { newBranch, newCallId, newTag } from '../../gateway/sip/transaction/ids';
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';

function request(uri: string, gwPort: number): SipRequest {
  const text =
    `OPTIONS ${uri} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:${gwPort};branch=${newBranch()}\r\nMax-Forwards: 70\r\n` +
    `To: <${uri}>\r\nFrom: <sips:gw@127.0.0.1>;tag=${newTag()}\r\nCall-ID: ${newCallId()}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
  return parseMessage(Buffer.from(text), { stream: false }) as SipRequest;
}

function hasTshark(): boolean {
  return spawnSync('tshark', ['--version']).status === 0 && process.getuid?.() === 0;
}

describe('Integration: sips: never falls back to clear text (RFC 3261 §26.2.2)', function () {
  this.timeout(40_000);
  let t: TestGateway;
  let tcp: net.Server;
  let udp: dgram.Socket;
  let port: number;
  const tcpBytes: Buffer[] = [];
  let udpDatagrams = 0;

  before(async () => {
    t = await startTestGateway();
    tcp = net.createServer((s) => {
      s.on('data', (d) => tcpBytes.push(d));
      setTimeout(() => s.destroy(), 300);
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    port = (tcp.address() as net.AddressInfo).port;
    udp = dgram.createSocket('udp4');
    udp.on('message', () => udpDatagrams++);
    await new Promise<void>((r) => udp.bind(port, '127.0.0.1', r));
  });
  after(async () => {
    udp?.close();
    tcp?.close();
    await t?.stop();
  });

  for (const uri of ['sips:probe@127.0.0.1:PORT', 'sip:probe@127.0.0.1:PORT;transport=tls']) {
    it(`a request to ${uri} fails with 503 and leaves no SIP text on UDP or TCP`, async () => {
      tcpBytes.length = 0;
      udpDatagrams = 0;
      const target = uri.replace('PORT', String(port));
      let capture: ChildProcess | undefined;
      let captured = '';
      if (hasTshark()) {
        capture = spawn('tshark', ['-i', 'lo', '-l', '-n', '-f', `port ${port}`, '-Y', 'sip || frame contains "OPTIONS"', '-T', 'fields', '-e', 'frame.number'], { stdio: ['ignore', 'pipe', 'pipe'] });
        capture.stdout!.on('data', (d: Buffer) => (captured += d.toString()));
        await new Promise<void>((resolve) => {
          capture!.stderr!.on('data', (d: Buffer) => d.toString().includes('Capturing on') && resolve());
          setTimeout(resolve, 5000);
        });
      }
      const req = request(target, t.port('TLS'));
      const dest = targetForUri(parseUri(target));
      assert.equal(dest.protocol, 'TLS');
      const res = await new Promise<SipResponse>((resolve) => {
        t.gw.stack.transactions.sendNonInvite(req, dest, { onResponse: (r) => resolve(r) });
      });
      assert.equal(res.status, 503, 'a transport failure is reported as 503 (RFC 3261 §8.1.3.1)');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(udpDatagrams, 0, 'nothing was sent over UDP');
      const tcpText = Buffer.concat(tcpBytes);
      if (tcpText.length > 0) assert.equal(tcpText[0], 0x16, 'only a TLS handshake record reached the TCP port');
      assert.equal(tcpText.includes('OPTIONS'), false, 'no SIP text reached the TCP port');
      if (capture) {
        capture.kill('SIGINT');
        await new Promise((r) => capture!.once('exit', r));
        assert.equal(captured.trim(), '', 'tshark saw no SIP on the target port');
      }
    });
  }
});
