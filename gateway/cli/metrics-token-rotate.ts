/**
 * `ciphergate metrics token rotate`: mints a scrape-only bearer token for Prometheus (GET /metrics
 * and nothing else; RFC 6750 §3 scope "metrics"), prints it once, and revokes the previous metrics
 * token(s). The admin token is left alone.
 */
import { METRICS_TOKEN_LABEL } from '../admin/tokens';
import type { CliCommand } from './command';
import { tokenRotateCommand } from './token-rotate';

export const metricsTokenRotateCommand: CliCommand = tokenRotateCommand(METRICS_TOKEN_LABEL, {
  name: 'metrics token rotate',
  summary: 'Mint a new scrape-only /metrics token (printed once) and revoke the old one',
  about: [
    'The metrics token reads GET /metrics on the admin listener and nothing else: /api/* answers it',
    '403. Put it in a file only the Prometheus server can read (authorization.credentials_file).',
    'The admin token is not revoked.',
  ].join('\n'),
  shownOnce: 'Metrics token (shown once)',
  noEarlier: 'No earlier metrics token existed.',
  revoked: (n) => `Revoked ${n} earlier metrics token(s): scrapes with them now get 401.`,
  auditAction: 'token.rotate-metrics',
});
