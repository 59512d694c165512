/**
 * `ciphergate start`: config → logger → dataDir → TLS certificate → gateway, then runs until SIGINT
 * or SIGTERM and stops the gateway cleanly (exit 0). A second signal during the stop forces exit 1.
 */
import fs from 'node:fs';
import { ConfigError, type Config } from '../../config/load';
import { createLogger, type Logger } from '../log/logger';
import { removePidFile, writePidFile } from '../ops/pid-file';
import { redactText } from '../log/redact';
import { startGateway as defaultStartGateway, type Gateway } from '../server';
import { CertificateError, ensureCertificate, type TlsMaterial } from '../tls/certificate';
import { EXIT_FAILURE, EXIT_OK, println, type CliCommand, type CliIo, type CliValues } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';

/** A watch for the stop request, installed BEFORE anything starts so no signal is ever missed. */
export interface ShutdownWatch {
  /** Resolves with the signal name when the gateway should stop. */
  readonly requested: Promise<string>;
  /** Removes the signal handlers (the command failed before serving). */
  dispose(): void;
}

/** Seams for tests: the real ones start the server and watch SIGINT/SIGTERM. */
export interface StartDeps {
  startGateway(config: Config, log: Logger, tls: TlsMaterial): Promise<Gateway>;
  watchShutdown(): ShutdownWatch;
  /** Where log lines go (default process.stderr). */
  logStream?: NodeJS.WritableStream;
}

export function createStartCommand(overrides: Partial<StartDeps> = {}): CliCommand {
  const deps: StartDeps = { startGateway: defaultStartGateway, watchShutdown: watchSignals, ...overrides };
  return {
    name: 'start',
    summary: 'Start the gateway (runs until SIGINT/SIGTERM)',
    usage: CONFIG_USAGE,
    help: CONFIG_HELP,
    options: CONFIG_OPTIONS,
    run: (values, io) => runStart(values, io, deps),
  };
}

async function runStart(values: CliValues, io: CliIo, deps: StartDeps): Promise<number> {
  let config: Config;
  try {
    config = configFromArgs(values, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      println(io.stderr, err.message);
      return EXIT_FAILURE;
    }
    throw err;
  }
  const log = createLogger(config.log, { stream: deps.logStream });
  // Watch signals before starting: a supervisor may signal as soon as it reads "Ciphergate ready",
  // and a signal during start-up must still lead to a clean stop, never to the default kill.
  const shutdown = deps.watchShutdown();
  try {
    return await startAndServe(config, log, io, deps, shutdown);
  } finally {
    shutdown.dispose();
    removePidFile(config.dataDir);
    await log.close();
  }
}

async function startAndServe(config: Config, log: Logger, io: CliIo, deps: StartDeps, shutdown: ShutdownWatch): Promise<number> {
  let gateway: Gateway;
  try {
    ensureDataDir(config.dataDir, log);
    // <dataDir>/run/gateway.pid: how `ciphergate zeroize` finds the process to stop (gateway/ops).
    writePidFile(config.dataDir);
    const tls = await ensureCertificate(config, log);
    println(io.stdout, `TLS certificate SHA-256 fingerprint: ${tls.fingerprint}`);
    println(io.stdout, `TLS certificate: ${tls.certPath} (${tls.generated ? 'generated now, self-signed' : 'loaded'})`);
    gateway = await deps.startGateway(config, log, tls);
  } catch (err) {
    const reason = err instanceof CertificateError ? err.message : describeError(err);
    log.error('cannot start', { error: err });
    println(io.stderr, `ciphergate: cannot start: ${reason}`);
    return EXIT_FAILURE;
  }
  for (const line of gateway.listening) println(io.stdout, line);
  // Secrets shown once (the first admin token) go to stdout only, never to the log.
  for (const line of gateway.notices ?? []) println(io.stdout, line);
  println(io.stdout, 'Ciphergate ready');
  log.info('ready', { listening: gateway.listening });

  const signal = await shutdown.requested;
  log.info('stopping', { signal });
  try {
    // Graceful: no new calls, those in progress get service.drainSec; a second signal exits at once.
    await gateway.drain?.();
    await gateway.stop();
  } catch (err) {
    log.error('stop failed', { error: err });
    println(io.stderr, `ciphergate: stop failed: ${describeError(err)}`);
    return EXIT_FAILURE;
  }
  log.info('stopped');
  return EXIT_OK;
}

/** dataDir holds the TLS key: create it owner-only; warn when an existing one is not. */
function ensureDataDir(dataDir: string, log: Logger): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dataDir);
  if (!stat.isDirectory()) throw new Error(`dataDir ${dataDir} is not a directory`);
  if (process.platform !== 'win32' && stat.mode & 0o077) {
    log.warn('dataDir is accessible to group/others; chmod 700 it', { dataDir });
  }
}

function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return redactText(message, { debugBodies: false });
}

/** The first SIGINT/SIGTERM requests the stop; a second one exits at once with status 1. */
function watchSignals(): ShutdownWatch {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  let resolveRequest: (signal: string) => void = () => undefined;
  const request = new Promise<string>((resolve) => { resolveRequest = resolve; });
  let requested = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (requested) process.exit(EXIT_FAILURE);
    requested = true;
    resolveRequest(signal);
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    requested: request,
    dispose: () => { for (const s of signals) process.off(s, onSignal); },
  };
}
