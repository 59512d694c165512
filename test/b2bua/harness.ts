/**
 * A calls lab in this process: the real gateway (startGateway) on loopback with two UDP PBX
 * stand-ins as trunks `pbx` and `pbx2` (every E.164 number routes to pbx, then pbx2), users
 * provisioned through UserService, and devices (SipUa over TLS) that register like baresip.
 */
import { startTestGateway, type TestGateway } from '../helpers/in-process-gateway';
import { SipUa } from './sip-ua';

let mediaBase = 40000 + Math.floor(Math.random() * 40) * 250;

export interface LabUser {
  readonly name: string;
  readonly password: string;
  readonly number?: string;
}

export interface CallsLab {
  readonly t: TestGateway;
  readonly tlsPort: number;
  readonly udpPort: number;
  readonly pbx: SipUa;
  readonly pbx2: SipUa;
  /** A registered device of `user` (a new TLS connection). */
  device(user: string): Promise<SipUa>;
  stop(): Promise<void>;
}

export const USERS: readonly LabUser[] = [
  { name: 'alice', password: 'Wonderland-Key-81', number: '+34911000001' },
  { name: 'bob', password: 'Builder-Tool-Box-22', number: '+34911000002' },
  { name: 'carol', password: 'Christmas-Song-33', number: '+34911000003' },
];

/** `pbxFields`: more YAML fields of the `pbx` trunk (`, auth: {...}`). */
export async function startLab(set: string[] = [], o: { pbxFields?: string } = {}): Promise<CallsLab> {
  const pbx = await SipUa.udp(0, 'pbx');
  const pbx2 = await SipUa.udp(0, 'pbx2');
  const portMin = mediaBase;
  mediaBase += 250;
  if (mediaBase > 59000) mediaBase = 40000;
  const trunk = (name: string, port: number, fields = ''): string =>
    `{name: ${name}, host: 127.0.0.1, port: ${port}, transport: UDP, keepAlive: {intervalSec: 0}${fields}}`;
  const t = await startTestGateway([
    'sip.domain=127.0.0.1',
    'media.inThread=true', 'media.address=127.0.0.1', `media.portMin=${portMin}`, `media.portMax=${portMin + 249}`,
    'routing.countryCode=34', 'routing.rules=[{name: all, prefix: "+", trunks: [pbx, pbx2]}]',
    `trunks=[${trunk('pbx', pbx.localPort, o.pbxFields)}, ${trunk('pbx2', pbx2.localPort)}]`,
    ...set,
  ]);
  for (const u of USERS) {
    await t.gw.users.add(u.name, { password: u.password, ...(u.number !== undefined && { number: u.number }), mayCallOffNet: true, mayCallInternational: true });
  }
  const udpPort = t.port('UDP');
  pbx.gatewayPort = udpPort;
  pbx2.gatewayPort = udpPort;
  const devices: SipUa[] = [];
  return {
    t,
    tlsPort: t.port('TLS'),
    udpPort,
    pbx,
    pbx2,
    async device(user: string) {
      const u = USERS.find((x) => x.name === user)!;
      const ua = await SipUa.tls(t.port('TLS'), u.name, u.password);
      devices.push(ua);
      const res = await ua.register();
      if (res.status !== 200) throw new Error(`REGISTER of ${user} got ${res.status}`);
      return ua;
    },
    async stop() {
      for (const d of devices) d.close();
      await t.stop();
      pbx.close();
      pbx2.close();
    },
  };
}

export interface LabWithPair {
  readonly lab: CallsLab;
  readonly alice: SipUa;
  readonly bob: SipUa;
}

/**
 * A lab with alice and bob registered, started before the tests of the calling `describe` and
 * stopped after them (mocha before/after hooks registered where this is called).
 */
export function labWithPair(set: string[] = []): LabWithPair {
  let current: LabWithPair | undefined;
  let lab: CallsLab | undefined;
  before(async () => {
    lab = await startLab(set);
    current = { lab, alice: await lab.device('alice'), bob: await lab.device('bob') };
  });
  after(async () => {
    await lab?.stop();
  });
  const get = (): LabWithPair => {
    if (current === undefined) throw new Error('lab used outside its describe');
    return current;
  };
  return {
    get lab() { return get().lab; },
    get alice() { return get().alice; },
    get bob() { return get().bob; },
  };
}
