/**
 * `ciphergate admin token rotate`: mints a new admin API bearer token, prints it once, and revokes
 * the previous one(s). Metrics tokens are left alone (`ciphergate metrics token rotate`).
 */
import { ADMIN_TOKEN_LABEL } from '../admin/tokens';
import type { CliCommand } from './command';
import { tokenRotateCommand } from './token-rotate';

export const adminTokenRotateCommand: CliCommand = tokenRotateCommand(ADMIN_TOKEN_LABEL, {
  name: 'admin token rotate',
  summary: 'Mint a new admin API token (printed once) and revoke the old one',
  about: 'The admin token reaches the whole admin API (/api/*) and GET /metrics. Metrics tokens are not revoked.',
  shownOnce: 'Admin API token (shown once)',
  noEarlier: 'No earlier token existed.',
  revoked: (n) => `Revoked ${n} earlier token(s): requests with them now get 401.`,
  auditAction: 'token.rotate',
});
