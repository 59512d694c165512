/**
 * The configuration schema (JSON Schema draft-07, validated with ajv) and the TypeScript types that
 * mirror it.
 *
 * Two shapes exist on purpose:
 * - `ConfigDocument` is what the merged YAML layers must look like. `JSONSchemaType<ConfigDocument>`
 *   makes the compiler check that the schema and the type agree, so they cannot drift apart.
 * - `Config` is what the rest of the gateway receives: optional keys resolved (sip.realm, sip.hosts),
 *   paths absolute, everything read-only (and deep-frozen at run time).
 *
 * Adding a key: add it to config/default.yaml (with a comment), to the `*Document` interface and the
 * schema node below, and to the `Config` interface (plus `resolveConfig` in load.ts if it needs
 * resolving). Every object is `additionalProperties: false` so a typo in a file is an error, never a
 * silently ignored setting.
 */
import type { JSONSchemaType } from 'ajv';
// Calls (issue 5): each module owns its node; imported here so the whole document is one schema.
import { callsSchema, type CallsDocument } from '../gateway/b2bua/config';
import type { CallsSettings } from '../gateway/b2bua/types';
import { cdrSchema, type CdrDocument } from '../gateway/cdr/config';
import { messagingSchema, type MessagingDocument } from '../gateway/messaging/config';
import type { MessagingLimits } from '../gateway/messaging/types';
import type { CdrConfig } from '../gateway/cdr/types';
import { routingSchema, type RoutingDocument } from '../gateway/routing/config';
import type { RoutingConfig } from '../gateway/routing/types';
import { trunksSchema, type TrunkDocument } from '../gateway/trunk/config';
import type { TrunkConfig } from '../gateway/trunk/types';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'json' | 'text';

// ---------------------------------------------------------------------------------------------------
// Document shape (what YAML + environment + --set must produce before resolution)
// ---------------------------------------------------------------------------------------------------

/** RFC 3261 §17.1.1.1 timer values, milliseconds. */
export interface SipTimersDocument {
  t1: number;
  t2: number;
  t4: number;
}

/** Parser guards against oversized or header-bomb messages (RFC 3261 §18.3, §20). */
export interface SipLimitsDocument {
  maxMessageSize: number;
  maxHeaders: number;
  maxHeaderLineLength: number;
}

export interface SipDocument {
  host: string;
  hosts?: string[] | null;
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  domain: string;
  realm?: string | null;
  maxConnections: number;
  /** Cap on live SIP transactions (RFC 3261 §17); beyond it new requests get 503. */
  maxTransactions: number;
  idleTimeoutSec: number;
  timers: SipTimersDocument;
  limits: SipLimitsDocument;
}

export interface TlsDocument {
  cert: string;
  key: string;
  ca: string;
  requestClientCert: boolean;
  rejectUnauthorizedClients: boolean;
  requireClientCert: boolean;
}

/** RFC 3261 §10.3 registrar bounds (seconds). */
export interface RegistrarDocument {
  requireTls: boolean;
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContacts: number;
  sweepIntervalSec: number;
  md5OnlyUserAgents: string[];
}

export interface LockoutDocument {
  maxFailures: number;
  windowSec: number;
  durationSec: number;
}

export interface BanDocument {
  maxAuthFailures: number;
  authWindowSec: number;
  maxRequests: number;
  requestWindowSec: number;
  durationSec: number;
  exemptLoopback: boolean;
  exempt: string[];
}

export interface ScannersDocument {
  dropKnown: boolean;
  extraUserAgents: string[];
}

export interface SecurityDocument {
  lockout: LockoutDocument;
  ban: BanDocument;
  scanners: ScannersDocument;
}

export interface AdminDocument {
  host: string;
  port: number;
  /** Self-service password changes (POST /self/password) allowed per source IP per window. */
  selfServiceAttempts: number;
  selfServiceWindowSec: number;
  /** Lifetime of a one-time password issued by `user reset`, seconds. */
  otpTtlSec: number;
}

export interface MediaDocument {
  portMin: number;
  portMax: number;
  /** Address the relay sockets bind (media/engine). */
  address: string;
  /** Address written in SDP c= lines; null = `address`, or a local interface's when that is unspecified. */
  advertisedAddress?: string | null;
  /** A call with no media accepted for this long raises the engine's 'timeout' event, seconds. */
  inactivitySec: number;
  /** Media worker threads; 0 = one per core minus one (at least one). */
  workers: number;
  /** Relay in the signalling thread instead of workers (tests, tiny deployments). */
  inThread: boolean;
  /** Allow pass-through calls to exchange media directly between the endpoints (no anchoring). */
  allowDirectMedia: boolean;
  /** Packets per second accepted from one leg of one stream; above, dropped as a flood. */
  maxPacketsPerSec: number;
  /** Streams each relay keeps bound ahead of need, so an offer does not wait for socket binds. */
  warmStreams: number;
  /** Relay latched pass-through legs in the kernel when the host allows it ('auto'), or never. */
  kernelForwarding: 'auto' | 'off';
  /** Read and write media sockets in batches through the native I/O addon when built ('auto'), or never. */
  batchedIo: 'auto' | 'off';
  /** Relay settled RTP/SRTP streams in the I/O addon's native fast path when it has one ('auto'), or never. */
  fastPath: 'auto' | 'off';
  /** Nice value of the relay worker threads (-20 most favoured .. 19); null = the process's own. */
  nice?: number | null;
  /** The relay worker threads' scheduling policy: 'other' (the fair scheduler) or real-time 'fifo'/'rr'. */
  scheduling: 'other' | 'fifo' | 'rr';
  /** Their real-time priority under 'fifo'/'rr' (1..99). */
  rtPriority: number;
}

export interface LogDocument {
  level: LogLevel;
  format: LogFormat;
  debugBodies: boolean;
}

/** Encrypted backups (gateway/ops/backup*.ts). */
export interface BackupDocument {
  /** Where `backup create` without --out and the scheduler write; '' = <dataDir>/backups. */
  dir: string;
  /** Hours between scheduled backups; 0 = no scheduled backups. */
  intervalHours: number;
  /** Scheduled backups kept (the oldest beyond this are deleted). */
  keep: number;
  /** 32-byte key file for unattended (scheduled) backups; '' = none. */
  keyFile: string;
}

/** Emergency zeroing (gateway/ops/zeroize*.ts). */
export interface ZeroizeDocument {
  /** 3 = zeros, ones, zeros; 1 = one pass of zeros (NIST SP 800-88 "Clear"). */
  passes: number;
  /** Further files or directories to erase (external log or CDR directories, copies of backups). */
  extraPaths: string[];
  /** Configuration files holding secrets, erased last. */
  secretFiles: string[];
  /** How long the gateway gets to stop after SIGTERM before SIGKILL, seconds. */
  stopTimeoutSec: number;
}

export interface OpsDocument {
  backup: BackupDocument;
  zeroize: ZeroizeDocument;
}

/** Running as a service (gateway/metrics/lifecycle.ts): the graceful stop on SIGTERM. */
export interface ServiceDocument {
  /** Seconds calls in progress may go on after SIGTERM before they are ended with BYE. */
  drainSec: number;
}

export interface ConfigDocument {
  dataDir: string;
  sip: SipDocument;
  tls: TlsDocument;
  admin: AdminDocument;
  media: MediaDocument;
  log: LogDocument;
  registrar: RegistrarDocument;
  security: SecurityDocument;
  ops: OpsDocument;
  service: ServiceDocument;
  /** Dial plan (gateway/routing/config.ts). */
  routing: RoutingDocument;
  /** PBX trunks (gateway/trunk/config.ts). */
  trunks: TrunkDocument[];
  /** Call detail records (gateway/cdr/config.ts). */
  cdr: CdrDocument;
  /** Secure messaging limits (gateway/messaging/config.ts). */
  messaging: MessagingDocument;
  /** The B2BUA: limits, timers, policy (gateway/b2bua/config.ts). */
  calls: CallsDocument;
}

// ---------------------------------------------------------------------------------------------------
// Resolved shape (what loadConfig returns)
// ---------------------------------------------------------------------------------------------------

export interface SipConfig {
  /** The single listen address given by sip.host (kept for tools that read it). */
  readonly host: string;
  /** Every listen address: sip.hosts when set and non-empty, else [sip.host]. Never empty. */
  readonly hosts: readonly string[];
  /** Port 0 means "let the OS choose" (tests). */
  readonly udpPort: number;
  readonly tcpPort: number;
  readonly tlsPort: number;
  /** SIP domain this gateway is authoritative for. */
  readonly domain: string;
  /** Digest realm (RFC 7616 §3.3); sip.realm when set, else sip.domain. */
  readonly realm: string;
  readonly maxConnections: number;
  readonly maxTransactions: number;
  readonly idleTimeoutSec: number;
  readonly timers: Readonly<SipTimersDocument>;
  readonly limits: Readonly<SipLimitsDocument>;
}

export interface TlsConfig {
  /** Absolute path, or '' for the auto-generated certificate in dataDir/tls/. */
  readonly cert: string;
  /** Absolute path, or '' (then cert is '' too: validated). */
  readonly key: string;
  /** Absolute path of the CA bundle that verifies client certificates, or ''. */
  readonly ca: string;
  readonly requestClientCert: boolean;
  readonly rejectUnauthorizedClients: boolean;
  /** REGISTER needs a verified client certificate bound to the user (implies requestClientCert). */
  readonly requireClientCert: boolean;
}

export interface SecurityConfig {
  readonly lockout: Readonly<LockoutDocument>;
  readonly ban: Readonly<Omit<BanDocument, 'exempt'>> & { readonly exempt: readonly string[] };
  readonly scanners: Readonly<Omit<ScannersDocument, 'extraUserAgents'>> & { readonly extraUserAgents: readonly string[] };
}

export interface OpsConfig {
  readonly backup: {
    /** Absolute; the default '' resolves to <dataDir>/backups. */
    readonly dir: string;
    readonly intervalHours: number;
    readonly keep: number;
    /** Absolute path, or ''. */
    readonly keyFile: string;
  };
  readonly zeroize: {
    readonly passes: number;
    /** Absolute paths. */
    readonly extraPaths: readonly string[];
    /** Absolute paths. */
    readonly secretFiles: readonly string[];
    readonly stopTimeoutSec: number;
  };
}

export interface Config {
  /** Absolute path (relative values resolve against the working directory). */
  readonly dataDir: string;
  readonly sip: SipConfig;
  readonly tls: TlsConfig;
  readonly admin: Readonly<AdminDocument>;
  readonly media: Readonly<MediaDocument>;
  readonly log: Readonly<LogDocument>;
  readonly registrar: Readonly<Omit<RegistrarDocument, 'md5OnlyUserAgents'>> & { readonly md5OnlyUserAgents: readonly string[] };
  readonly security: SecurityConfig;
  readonly ops: OpsConfig;
  readonly service: Readonly<ServiceDocument>;
  readonly routing: RoutingConfig;
  readonly trunks: readonly TrunkConfig[];
  readonly cdr: CdrConfig;
  readonly messaging: MessagingLimits;
  readonly calls: CallsSettings;
}

// ---------------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------------

/** Custom ajv formats registered in load.ts (ajv-formats is not a dependency). */
export const FORMAT_IP = 'ip-address';
export const FORMAT_HOST = 'host-name';

const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const positiveInt = (maximum: number) => ({ type: 'integer', minimum: 1, maximum }) as const;
const ipAddress = { type: 'string', format: FORMAT_IP } as const;
const path = { type: 'string', maxLength: 4096 } as const;

export const configSchema: JSONSchemaType<ConfigDocument> = {
  type: 'object',
  additionalProperties: false,
  required: ['dataDir', 'sip', 'tls', 'admin', 'media', 'log', 'registrar', 'security', 'ops', 'service', 'routing', 'trunks', 'cdr', 'messaging', 'calls'],
  properties: {
    routing: routingSchema,
    trunks: trunksSchema(FORMAT_IP),
    cdr: cdrSchema,
    messaging: messagingSchema,
    calls: callsSchema,
    service: {
      type: 'object',
      additionalProperties: false,
      required: ['drainSec'],
      properties: { drainSec: { type: 'integer', minimum: 0, maximum: 3600 } },
    },
    dataDir: { type: 'string', minLength: 1, maxLength: 4096 },
    sip: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'udpPort', 'tcpPort', 'tlsPort', 'domain', 'maxConnections', 'maxTransactions', 'idleTimeoutSec',
        'timers', 'limits'],
      properties: {
        host: ipAddress,
        hosts: { type: 'array', items: ipAddress, maxItems: 16, uniqueItems: true, nullable: true },
        udpPort: port,
        tcpPort: port,
        tlsPort: port,
        domain: { type: 'string', format: FORMAT_HOST },
        // Sent as a quoted-string (RFC 3261 §25.1): no quotes, backslashes or controls.
        realm: {
          type: 'string', minLength: 1, maxLength: 255, pattern: '^[^"\\\\\\x00-\\x1f\\x7f]+$', nullable: true,
          description: 'must be 1..255 printable characters without quotes or backslashes, or null',
        },
        maxConnections: positiveInt(1_000_000),
        maxTransactions: positiveInt(10_000_000),
        idleTimeoutSec: positiveInt(86_400),
        timers: {
          type: 'object',
          additionalProperties: false,
          required: ['t1', 't2', 't4'],
          properties: { t1: positiveInt(60_000), t2: positiveInt(600_000), t4: positiveInt(600_000) },
        },
        limits: {
          type: 'object',
          additionalProperties: false,
          required: ['maxMessageSize', 'maxHeaders', 'maxHeaderLineLength'],
          properties: {
            // 1300 bytes is the RFC 3261 §18.1.1 UDP MTU threshold; anything smaller breaks real traffic.
            maxMessageSize: { type: 'integer', minimum: 1300, maximum: 16 * 1024 * 1024 },
            maxHeaders: { type: 'integer', minimum: 16, maximum: 10_000 },
            maxHeaderLineLength: { type: 'integer', minimum: 256, maximum: 1024 * 1024 },
          },
        },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key', 'ca', 'requestClientCert', 'rejectUnauthorizedClients', 'requireClientCert'],
      properties: {
        cert: path,
        key: path,
        ca: path,
        requestClientCert: { type: 'boolean' },
        rejectUnauthorizedClients: { type: 'boolean' },
        requireClientCert: { type: 'boolean' },
      },
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'selfServiceAttempts', 'selfServiceWindowSec', 'otpTtlSec'],
      properties: {
        host: ipAddress,
        port,
        selfServiceAttempts: positiveInt(1000),
        selfServiceWindowSec: positiveInt(86_400),
        // UserService accepts 1 minute .. 30 days.
        otpTtlSec: { type: 'integer', minimum: 60, maximum: 30 * 86_400 },
      },
    },
    media: {
      type: 'object',
      additionalProperties: false,
      required: ['portMin', 'portMax', 'address', 'inactivitySec', 'workers', 'inThread', 'allowDirectMedia',
        'maxPacketsPerSec', 'warmStreams', 'kernelForwarding', 'batchedIo', 'fastPath', 'scheduling', 'rtPriority'],
      properties: {
        // Below 1024 needs privileges and collides with well-known services.
        portMin: { type: 'integer', minimum: 1024, maximum: 65535 },
        portMax: { type: 'integer', minimum: 1024, maximum: 65535 },
        address: ipAddress,
        advertisedAddress: { ...ipAddress, nullable: true },
        inactivitySec: positiveInt(86_400),
        workers: { type: 'integer', minimum: 0, maximum: 256 },
        inThread: { type: 'boolean' },
        allowDirectMedia: { type: 'boolean' },
        // 50 = one 20 ms audio stream; video needs more. The limit bounds the crypto work a flood causes.
        maxPacketsPerSec: { type: 'integer', minimum: 50, maximum: 1_000_000 },
        // Each holds two port pairs; filled only while the range has room to spare.
        warmStreams: { type: 'integer', minimum: 0, maximum: 1024 },
        kernelForwarding: { type: 'string', enum: ['auto', 'off'] },
        batchedIo: { type: 'string', enum: ['auto', 'off'] },
        fastPath: { type: 'string', enum: ['auto', 'off'] },
        // setpriority(2)'s range; below the process's own needs CAP_SYS_NICE (media/relay/thread-priority.ts).
        nice: { type: 'integer', minimum: -20, maximum: 19, nullable: true },
        // sched(7): SCHED_FIFO / SCHED_RR on the relay threads only (media/relay/thread-priority.ts).
        scheduling: { type: 'string', enum: ['other', 'fifo', 'rr'] },
        rtPriority: { type: 'integer', minimum: 1, maximum: 99 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level', 'format', 'debugBodies'],
      properties: {
        level: { type: 'string', enum: ['error', 'warn', 'info', 'debug'] },
        format: { type: 'string', enum: ['json', 'text'] },
        debugBodies: { type: 'boolean' },
      },
    },
    registrar: {
      type: 'object',
      additionalProperties: false,
      required: ['requireTls', 'minExpires', 'maxExpires', 'defaultExpires', 'maxContacts', 'sweepIntervalSec', 'md5OnlyUserAgents'],
      properties: {
        requireTls: { type: 'boolean' },
        minExpires: positiveInt(86_400),
        maxExpires: positiveInt(7 * 86_400),
        defaultExpires: positiveInt(7 * 86_400),
        maxContacts: positiveInt(1_000),
        sweepIntervalSec: positiveInt(3_600),
        md5OnlyUserAgents: { type: 'array', items: { type: 'string', minLength: 3, maxLength: 128 }, maxItems: 64 },
      },
    },
    security: {
      type: 'object',
      additionalProperties: false,
      required: ['lockout', 'ban', 'scanners'],
      properties: {
        lockout: {
          type: 'object',
          additionalProperties: false,
          required: ['maxFailures', 'windowSec', 'durationSec'],
          properties: { maxFailures: positiveInt(1_000), windowSec: positiveInt(86_400), durationSec: positiveInt(7 * 86_400) },
        },
        ban: {
          type: 'object',
          additionalProperties: false,
          required: ['maxAuthFailures', 'authWindowSec', 'maxRequests', 'requestWindowSec', 'durationSec', 'exemptLoopback', 'exempt'],
          properties: {
            maxAuthFailures: positiveInt(100_000),
            authWindowSec: positiveInt(86_400),
            maxRequests: positiveInt(10_000_000),
            requestWindowSec: positiveInt(3_600),
            durationSec: positiveInt(30 * 86_400),
            exemptLoopback: { type: 'boolean' },
            // An address or a prefix (checked in load.ts: the schema has no CIDR format).
            exempt: { type: 'array', items: { type: 'string', minLength: 2, maxLength: 64 }, maxItems: 1_000, uniqueItems: true },
          },
        },
        scanners: {
          type: 'object',
          additionalProperties: false,
          required: ['dropKnown', 'extraUserAgents'],
          properties: {
            dropKnown: { type: 'boolean' },
            extraUserAgents: { type: 'array', items: { type: 'string', minLength: 3, maxLength: 64 }, maxItems: 256 },
          },
        },
      },
    },
    ops: {
      type: 'object',
      additionalProperties: false,
      required: ['backup', 'zeroize'],
      properties: {
        backup: {
          type: 'object',
          additionalProperties: false,
          required: ['dir', 'intervalHours', 'keep', 'keyFile'],
          properties: {
            dir: path,
            intervalHours: { type: 'number', minimum: 0, maximum: 8760 },
            keep: positiveInt(10_000),
            keyFile: path,
          },
        },
        zeroize: {
          type: 'object',
          additionalProperties: false,
          required: ['passes', 'extraPaths', 'secretFiles', 'stopTimeoutSec'],
          properties: {
            passes: { type: 'integer', enum: [1, 3] },
            extraPaths: { type: 'array', items: { ...path, minLength: 1 }, maxItems: 256, uniqueItems: true },
            secretFiles: { type: 'array', items: { ...path, minLength: 1 }, maxItems: 256, uniqueItems: true },
            stopTimeoutSec: positiveInt(300),
          },
        },
      },
    },
  },
};
