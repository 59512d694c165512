/**
 * `ciphergate admin token rotate` and `ciphergate metrics token rotate`, built once: mint a new
 * bearer token of one scope (gateway/admin/tokens.ts), print it once, revoke the older tokens of
 * that scope only. Works on the store directly, gateway stopped or running: the API checks tokens
 * against the store on every request, so an old token is refused from the next request on.
 */
import { ConfigError, type Config } from '../../config/load';
import { FileAuditLog } from '../admin/audit';
import { AdminTokens, type TokenScope } from '../admin/tokens';
import { openAccountStore, StoreError } from '../store';
import { osUser } from './admin-target';
import { EXIT_FAILURE, EXIT_OK, println, type CliCommand } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';

/** What differs between the scopes: the words printed and the audit action. */
export interface TokenRotateText {
  readonly name: string;
  readonly summary: string;
  /** Extra --help lines (what the token is for). */
  readonly about: string;
  /** Printed before the token: "Admin API token (shown once)". */
  readonly shownOnce: string;
  readonly noEarlier: string;
  revoked(count: number): string;
  readonly auditAction: string;
}

export function tokenRotateCommand(scope: TokenScope, text: TokenRotateText): CliCommand {
  return {
    name: text.name,
    summary: text.summary,
    usage: CONFIG_USAGE,
    help: `${text.about}\n\n${CONFIG_HELP}\n\nExit status: 0 done, 1 failed, 2 bad command line.`,
    options: CONFIG_OPTIONS,
    async run(values, io) {
      let config: Config;
      try {
        config = configFromArgs(values, io);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        println(io.stderr, err.message);
        return EXIT_FAILURE;
      }
      let opened;
      try {
        opened = await openAccountStore(config.dataDir);
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        println(io.stderr, `ciphergate: ${err.message}`);
        return EXIT_FAILURE;
      }
      const audit = FileAuditLog.open(config.dataDir);
      const tokens = new AdminTokens(opened.store.adminTokens, opened.masterKey);
      const by = { actor: `cli:${osUser()}`, source: 'local' };
      try {
        const rotated = await tokens.rotate(scope);
        audit.record({
          ...by, action: text.auditAction, result: 'ok',
          detail: { tokenId: rotated.minted.id, revoked: rotated.revoked.join(',') },
        });
        println(io.stdout, `${text.shownOnce}: ${rotated.minted.token}`);
        println(io.stdout, rotated.revoked.length === 0 ? text.noEarlier : text.revoked(rotated.revoked.length));
        if (rotated.walWarning !== undefined) println(io.stderr, `ciphergate: warning: ${rotated.walWarning}`);
        return EXIT_OK;
      } catch (err) {
        audit.record({ ...by, action: text.auditAction, result: 'failed', reason: err instanceof Error ? err.name : 'Error' });
        throw err;
      } finally {
        tokens.dispose();
        opened.masterKey.dispose();
        await opened.store.close();
        await audit.close();
      }
    },
  };
}
