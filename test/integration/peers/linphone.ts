/**
 * linphonec (Debian linphone-cli 5.1) as a SIP-over-TLS client that verifies the server
 * certificate against `root_ca` (mbedTLS: it checks DNS names, so the gateway's generated
 * certificate carries DNS:127.0.0.1 as well as IP:127.0.0.1).
 *
 * Recipe notes (work/shared/PEERS.md adds these): linphonec only opens its transports once its
 * message database opened, so HOME must hold a writable `.local/share/linphone`; port -1 means
 * "random" (0 switches a transport off). It rewrites its config on exit, so a fresh one is
 * written for every start. Commands go to its stdin. For calls (test/integration/calls-*.test.ts):
 * SDES-SRTP mandatory and a fixed RTP port range.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LinphoneOptions {
  user: string;
  password: string;
  /** Digest realm and SIP domain of the gateway. */
  realm: string;
  domain: string;
  gatewayPort: number;
  /** PEM of the CA (here: the gateway's self-signed certificate) the client trusts. */
  rootCaPem: string;
  /** RTP port range of its audio ("lo-hi"). */
  rtpPorts?: string;
  /** media_encryption=srtp, mandatory (RFC 4568 SDES). */
  srtp?: boolean;
}

export class Linphonec {
  private output = '';

  private constructor(readonly home: string, readonly child: ChildProcess) {}

  static start(o: LinphoneOptions): Linphonec {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-linphone-'));
    fs.mkdirSync(path.join(home, '.local', 'share', 'linphone'), { recursive: true });
    const ca = path.join(home, 'root-ca.pem');
    fs.writeFileSync(ca, o.rootCaPem);
    const rc = path.join(home, 'linphonerc');
    fs.writeFileSync(rc, [
      '[sip]',
      'sip_port=-1',
      'sip_tcp_port=-1',
      'sip_tls_port=-1',
      'default_proxy=0',
      `root_ca=${ca}`,
      'verify_server_certs=1',
      'verify_server_cn=1',
      ...(o.srtp === true ? ['media_encryption=srtp', 'media_encryption_mandatory=1'] : []),
      '',
      ...(o.rtpPorts !== undefined ? ['[rtp]', `audio_rtp_port=${o.rtpPorts}`, ''] : []),
      '[auth_info_0]',
      `username=${o.user}`,
      `passwd=${o.password}`,
      `realm=${o.realm}`,
      `domain=${o.domain}`,
      '',
      '[proxy_0]',
      `reg_proxy=<sip:127.0.0.1:${o.gatewayPort};transport=tls>`,
      `reg_identity=sip:${o.user}@${o.domain}`,
      'reg_expires=600',
      'reg_sendregister=1',
      'publish=0',
      '',
    ].join('\n'));
    const child = spawn('linphonec', ['-c', rc, '-d', '0'], {
      env: { ...process.env, HOME: home },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const l = new Linphonec(home, child);
    child.stdout?.on('data', (d: Buffer) => (l.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (l.output += d.toString()));
    return l;
  }

  log(): string {
    return this.output;
  }

  command(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Asks `status register` every 500 ms until it reports `registered,` or the time is up. */
  async waitRegistered(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const mark = this.output.length;
      this.command('status register');
      await new Promise((r) => setTimeout(r, 500));
      if (/registered, identity=/.test(this.output.slice(mark))) return true;
    }
    return false;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.command('quit');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
