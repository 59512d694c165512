/**
 * `ciphergate cdr list [--since WHEN] [--limit N] [--json]`: call detail records, newest first.
 *
 * Reads <dataDir>/ciphergate.db directly (WAL: safe while the gateway writes). Records hold no SDP
 * and no keys; party names are printed with control characters escaped.
 */
import fs from 'node:fs';
import type { Config } from '../../config/load';
import { ConfigError } from '../../config/load';
import { MAX_LIST_LIMIT, SqliteCdrStore, type CdrRecord } from '../cdr';
import { escapeControl } from '../log/logger';
import { StoreError, databasePath } from '../store';
import { openDatabase } from '../store/sqlite/database';
import { EXIT_FAILURE, EXIT_OK, println, UsageError, type CliCommand, type CliIo, type CliValues } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';
import { table } from './user-common';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `24h`, `7d`, `30m` (before now), or an ISO 8601 date/time. Undefined when unreadable. */
export function parseSince(text: string, now: number): number | undefined {
  const unit = UNITS[text.slice(-1)];
  const amount = text.slice(0, -1);
  if (unit !== undefined && amount.length > 0 && amount.length <= 6 && [...amount].every((c) => c >= '0' && c <= '9')) {
    return now - Number(amount) * unit;
  }
  if (text.length > 40) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

function parseLimit(values: CliValues): number {
  const raw = values.limit;
  if (raw === undefined) return 100;
  const n = typeof raw === 'string' && /^[0-9]{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST_LIMIT) throw new UsageError(`--limit must be 1..${MAX_LIST_LIMIT}`);
  return n;
}

function duration(r: CdrRecord): string {
  if (r.billableSec === undefined) return r.endedAt === undefined ? 'in progress' : '-';
  const s = r.billableSec;
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function list(config: Config, since: number | undefined, limit: number): CdrRecord[] {
  // openDatabase migrates a database older than the CDR table; a missing database means no calls yet.
  if (!fs.existsSync(databasePath(config.dataDir))) return [];
  const db = openDatabase(config.dataDir);
  try {
    return new SqliteCdrStore(db).list({ ...(since !== undefined && { since }), limit });
  } finally {
    db.close();
  }
}

export const cdrListCommand: CliCommand = {
  name: 'cdr list',
  summary: 'List call detail records, newest first',
  usage: `[--since WHEN] [--limit N] [--json] ${CONFIG_USAGE}`,
  help: [
    'Command options:',
    '  --since WHEN           Only calls started since WHEN: 30m, 24h, 7d, or an ISO date (2025-01-31T00:00Z)',
    `  --limit N              At most N records (default 100, at most ${MAX_LIST_LIMIT})`,
    '  --json                 Print JSON',
    '',
    CONFIG_HELP,
  ].join('\n'),
  options: { ...CONFIG_OPTIONS, since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  async run(values: CliValues, io: CliIo): Promise<number> {
    const limit = parseLimit(values);
    let since: number | undefined;
    if (typeof values.since === 'string') {
      since = parseSince(values.since, Date.now());
      if (since === undefined) throw new UsageError('--since must be like 30m, 24h, 7d or an ISO date');
    }
    let records: CdrRecord[];
    try {
      records = list(configFromArgs(values, io), since, limit);
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof StoreError)) throw err;
      println(io.stderr, err.message);
      return EXIT_FAILURE;
    }
    if (values.json === true) {
      println(io.stdout, JSON.stringify({ cdrs: records }, null, 2));
      return EXIT_OK;
    }
    if (records.length === 0) {
      println(io.stdout, 'No call detail records.');
      return EXIT_OK;
    }
    const rows = records.map((r) => [
      new Date(r.startedAt).toISOString(),
      r.direction,
      escapeControl(r.caller),
      escapeControl(r.callee),
      r.trunk === undefined ? '-' : escapeControl(r.trunk),
      r.disposition ?? '-',
      r.status === undefined ? '-' : String(r.status),
      duration(r),
    ]);
    for (const line of table(['STARTED', 'DIRECTION', 'CALLER', 'CALLEE', 'TRUNK', 'DISPOSITION', 'STATUS', 'DURATION'], rows)) println(io.stdout, line);
    return EXIT_OK;
  },
};
