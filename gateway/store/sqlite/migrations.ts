/**
 * Numbered schema migrations for the SQLite backend.
 *
 * `schema_version` records every applied migration. Opening runs the pending ones in one
 * IMMEDIATE transaction (the write lock is taken before the version is read, so a CLI and a
 * gateway opening the same file at once cannot both apply a migration); opening an up-to-date
 * database changes nothing. Migrations are append-only: a released one is never edited, a change
 * is a new entry. A database newer than this build is refused rather than misread.
 *
 * Tables are STRICT (SQLite 3.37): a wrong type is an error, not a silent conversion.
 */
import type { Database } from 'better-sqlite3';
import { SchemaVersionError, StoreError } from '../errors';

export interface Migration {
  readonly version: number;
  readonly description: string;
  /** SQL script, or a function for changes SQL alone cannot express. */
  readonly up: string | ((db: Database) => void);
}

const V1_INITIAL = `
CREATE TABLE meta (
  name  TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
) STRICT;

CREATE TABLE users (
  name                   TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  number                 TEXT UNIQUE,
  display_name           TEXT,
  state                  TEXT NOT NULL CHECK (state IN ('active', 'blocked', 'password-change-required')),
  may_call_off_net       INTEGER NOT NULL CHECK (may_call_off_net IN (0, 1)),
  may_call_international INTEGER NOT NULL CHECK (may_call_international IN (0, 1)),
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL
) STRICT;

-- Digest HA1s (RFC 7616 §3.4.2), sealed with AES-256-GCM by the caller.
CREATE TABLE ha1s (
  user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('MD5', 'SHA-256', 'SHA-512-256')),
  realm     TEXT NOT NULL,
  sealed    BLOB NOT NULL,
  PRIMARY KEY (user_name, algorithm)
) STRICT;

-- One-time password verifiers: HMAC-SHA256 of the OTP under a master-derived key.
CREATE TABLE otps (
  user_name  TEXT PRIMARY KEY NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  mac        BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
) STRICT;

-- RFC 3261 §10.3 bindings with RFC 5626 flow data and RFC 3327 Path.
CREATE TABLE registrations (
  aor            TEXT NOT NULL,
  contact        TEXT NOT NULL,
  user_name      TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  call_id        TEXT NOT NULL,
  cseq           INTEGER NOT NULL CHECK (cseq BETWEEN 0 AND 4294967295),
  expires_at     INTEGER NOT NULL,
  q_milli        INTEGER CHECK (q_milli BETWEEN 0 AND 1000),
  instance_id    TEXT,
  reg_id         INTEGER CHECK (reg_id BETWEEN 1 AND 4294967295),
  transport      TEXT NOT NULL CHECK (transport IN ('UDP', 'TCP', 'TLS')),
  remote_address TEXT NOT NULL,
  remote_port    INTEGER NOT NULL CHECK (remote_port BETWEEN 0 AND 65535),
  local_address  TEXT,
  local_port     INTEGER CHECK (local_port BETWEEN 0 AND 65535),
  flow_id        TEXT,
  path           TEXT NOT NULL DEFAULT '[]',
  user_agent     TEXT,
  registered_at  INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (aor, contact),
  CHECK ((instance_id IS NULL) = (reg_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX registrations_flow ON registrations (aor, instance_id, reg_id)
  WHERE instance_id IS NOT NULL;
CREATE INDEX registrations_expiry ON registrations (expires_at);
CREATE INDEX registrations_user ON registrations (user_name);

CREATE TABLE cert_bindings (
  fingerprint TEXT PRIMARY KEY NOT NULL CHECK (length(fingerprint) = 64),
  user_name   TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX cert_bindings_user ON cert_bindings (user_name);

CREATE TABLE admin_tokens (
  id           TEXT PRIMARY KEY NOT NULL,
  mac          BLOB NOT NULL UNIQUE,
  label        TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER,
  last_used_at INTEGER
) STRICT;
`;

/**
 * Secure messaging (gateway/messaging/): the store-and-forward queue, groups, and the per-user
 * confidential policy. A message body is only ever here sealed (AES-256-GCM, AAD = message id and
 * recipient); `sealed` is zeroed before its row is deleted. `seq` is the arrival order, in which a
 * recipient's messages are delivered.
 */
const V2_MESSAGING = `
CREATE TABLE messages (
  seq        INTEGER PRIMARY KEY NOT NULL,
  id         TEXT NOT NULL UNIQUE,
  recipient  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  group_name TEXT,
  size       INTEGER NOT NULL CHECK (size >= 0),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  sealed     BLOB NOT NULL
) STRICT;
CREATE INDEX messages_recipient ON messages (recipient, seq);
CREATE INDEX messages_expiry ON messages (expires_at);

-- Per-device delivery of one stored message: the devices registered when it arrived (required),
-- and every device that has answered it (so none gets it twice).
CREATE TABLE message_deliveries (
  seq      INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
  device   TEXT NOT NULL,
  required INTEGER NOT NULL CHECK (required IN (0, 1)),
  state    TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'refused')),
  PRIMARY KEY (seq, device)
) STRICT;

CREATE TABLE message_groups (
  name         TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  confidential INTEGER NOT NULL CHECK (confidential IN (0, 1)),
  created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE message_group_members (
  group_name TEXT NOT NULL REFERENCES message_groups (name) ON DELETE CASCADE,
  user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  added_at   INTEGER NOT NULL,
  PRIMARY KEY (group_name, user_name)
) STRICT;
CREATE INDEX message_group_members_user ON message_group_members (user_name);

CREATE TABLE message_policies (
  user_name    TEXT PRIMARY KEY NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  confidential INTEGER NOT NULL CHECK (confidential IN (0, 1)),
  updated_at   INTEGER NOT NULL
) STRICT;
`;

/**
 * Call detail records (gateway/cdr/): parties, times, disposition, trunk. Nothing else by design:
 * no SDP, no media keys, no addresses, no SIP identifiers. Parties are text, not foreign keys: a
 * record outlives the account, and an inbound caller is a number. Retention deletes by started_at.
 */
/**
 * The cdrs table under `name`, with the dispositions its CHECK allows. Migrations 3 and 4 write it
 * (4 rebuilds it with one more disposition); the text of 3 is what it always was.
 */
function cdrsTable(name: string, dispositions: readonly string[]): string {
  return `
CREATE TABLE ${name} (
  id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
  direction   TEXT NOT NULL CHECK (direction IN ('on-net', 'outbound', 'inbound')),
  caller      TEXT NOT NULL CHECK (length(caller) BETWEEN 1 AND 128),
  callee      TEXT NOT NULL CHECK (length(callee) BETWEEN 1 AND 128),
  trunk       TEXT CHECK (length(trunk) BETWEEN 1 AND 64),
  started_at  INTEGER NOT NULL,
  answered_at INTEGER,
  ended_at    INTEGER,
  disposition TEXT CHECK (disposition IN (${dispositions.map((d) => `'${d}'`).join(', ')})),
  status      INTEGER CHECK (status BETWEEN 100 AND 699),
  ended_by    TEXT CHECK (ended_by IN ('caller', 'callee', 'gateway'))
) STRICT;`;
}

const V3_CDRS = `${cdrsTable('cdrs', ['answered', 'busy', 'no-answer', 'failed'])}
CREATE INDEX cdrs_started ON cdrs (started_at);
`;

/**
 * CDRs: the disposition 'transferred' for the transferor's record of a blind transfer (RFC 3515;
 * gateway/b2bua/transfer.ts). SQLite cannot change a CHECK in place, so the table is rebuilt
 * (https://sqlite.org/lang_altertable.html, "other kinds of table schema changes") inside the
 * migration's transaction; the rows are copied as they are.
 */
const V4_CDR_TRANSFERRED = `${cdrsTable('cdrs_v4', ['answered', 'busy', 'no-answer', 'failed', 'transferred'])}
INSERT INTO cdrs_v4 (id, direction, caller, callee, trunk, started_at, answered_at, ended_at, disposition, status, ended_by)
  SELECT id, direction, caller, callee, trunk, started_at, answered_at, ended_at, disposition, status, ended_by FROM cdrs;
DROP TABLE cdrs;
ALTER TABLE cdrs_v4 RENAME TO cdrs;
CREATE INDEX cdrs_started ON cdrs (started_at);
`;

/** Ordered, append-only. Version n is at index n - 1. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'users, secrets, registrations, certificate bindings, admin tokens', up: V1_INITIAL },
  { version: 2, description: 'messaging: stored messages, deliveries, groups, confidential policy', up: V2_MESSAGING },
  { version: 3, description: 'call detail records', up: V3_CDRS },
  { version: 4, description: "call detail records: disposition 'transferred'", up: V4_CDR_TRANSFERRED },
];

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
}

/** Brings the database to the last migration of `migrations`. Idempotent. */
export function migrate(db: Database, now: number, migrations: readonly Migration[] = MIGRATIONS): MigrationResult {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new StoreError(`migration list is not numbered 1..n (entry ${i} has ${m.version})`);
  });
  const latest = migrations.length;
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY NOT NULL,
    description TEXT NOT NULL,
    applied_at  INTEGER NOT NULL
  ) STRICT`);
  const current = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_version');
  const record = db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)');
  const run = db.transaction((): MigrationResult => {
    const from = current.get()?.v ?? 0;
    if (from > latest) {
      throw new SchemaVersionError(
        `database schema version ${from} is newer than this build knows (${latest}); ` +
          'run the ciphergate version that wrote it, or restore a backup made by this version',
      );
    }
    for (const m of migrations.slice(from)) {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      record.run(m.version, m.description, now);
    }
    return { from, to: latest };
  });
  return run.immediate();
}
