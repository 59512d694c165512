/**
 * `ciphergate check-config`: validates the configuration (and a configured certificate/key pair)
 * without starting anything or writing any file. Prints "config OK" and a summary, or the errors.
 */
import path from 'node:path';
import { ConfigError, type Config } from '../../config/load';
import { CertificateError, loadTlsMaterial } from '../tls/certificate';
import { EXIT_FAILURE, EXIT_OK, println, type CliCommand, type CliIo, type CliValues } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';

export const checkConfigCommand: CliCommand = {
  name: 'check-config',
  summary: 'Validate the configuration and print a summary',
  usage: CONFIG_USAGE,
  help: `${CONFIG_HELP}\n\nExit status: 0 valid, 1 invalid, 2 bad command line.`,
  options: CONFIG_OPTIONS,
  async run(values: CliValues, io: CliIo): Promise<number> {
    let config: Config;
    try {
      config = configFromArgs(values, io);
      if (config.tls.cert !== '') {
        const material = loadTlsMaterial(config.tls.cert, config.tls.key, config.tls.ca === '' ? undefined : config.tls.ca);
        println(io.stdout, `TLS certificate SHA-256 fingerprint: ${material.fingerprint}`);
      }
    } catch (err) {
      if (err instanceof ConfigError || err instanceof CertificateError) {
        println(io.stderr, err.message);
        return EXIT_FAILURE;
      }
      throw err;
    }
    println(io.stdout, 'config OK');
    for (const line of summarize(config)) println(io.stdout, `  ${line}`);
    return EXIT_OK;
  },
};

/** The effective settings an operator most often needs to confirm, one per line. */
export function summarize(config: Config): string[] {
  const { sip, tls, admin, media, log } = config;
  const hosts = sip.hosts.map((h) => (h.includes(':') ? `[${h}]` : h)).join(', ');
  const tlsLine = tls.cert === ''
    ? `self-signed, generated on first start in ${path.join(config.dataDir, 'tls')}`
    : `cert ${tls.cert}, key ${tls.key}`;
  const clientCerts = tls.requestClientCert
    ? `, client certificates requested${tls.rejectUnauthorizedClients ? ' and required' : ''}` : '';
  return [
    `dataDir      ${config.dataDir}`,
    `sip          udp ${sip.udpPort}, tcp ${sip.tcpPort}, tls ${sip.tlsPort} on ${hosts}`,
    `sip.domain   ${sip.domain} (realm ${sip.realm})`,
    `tls          ${tlsLine}${clientCerts}`,
    `admin        ${admin.host.includes(':') ? `[${admin.host}]` : admin.host}:${admin.port}`,
    `media        RTP ports ${media.portMin}-${media.portMax}`,
    `log          ${log.level}, ${log.format}, bodies ${log.debugBodies ? 'on' : 'off'}`,
  ];
}
