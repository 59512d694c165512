/**
 * `ciphergate admin token rotate`: mints a new admin API bearer token, prints it once, and revokes
 * the previous one(s). Works on the store directly, gateway stopped or running: the API checks
 * tokens against the store on every request, so the old token is refused from the next request on.
 */
import { ConfigError, type Config } from '../../config/load';
import { FileAuditLog } from '../admin/audit';
import { AdminTokens } from '../admin/tokens';
import { openAccountStore, StoreError } from '../store';
import { osUser } from './admin-target';
import { EXIT_FAILURE, EXIT_OK, println, type CliCommand } from './command';
import { CONFIG_HELP, CONFIG_OPTIONS, CONFIG_USAGE, configFromArgs } from './config-options';

export const adminTokenRotateCommand: CliCommand = {
  name: 'admin token rotate',
  summary: 'Mint a new admin API token (printed once) and revoke the old one',
  usage: CONFIG_USAGE,
  help: `${CONFIG_HELP}\n\nExit status: 0 done, 1 failed, 2 bad command line.`,
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
      const rotated = await tokens.rotate();
      audit.record({
        ...by, action: 'token.rotate', result: 'ok',
        detail: { tokenId: rotated.minted.id, revoked: rotated.revoked.join(',') },
      });
      println(io.stdout, `Admin API token (shown once): ${rotated.minted.token}`);
      println(io.stdout, rotated.revoked.length === 0
        ? 'No earlier token existed.'
        : `Revoked ${rotated.revoked.length} earlier token(s): requests with them now get 401.`);
      if (rotated.walWarning !== undefined) println(io.stderr, `ciphergate: warning: ${rotated.walWarning}`);
      return EXIT_OK;
    } catch (err) {
      audit.record({ ...by, action: 'token.rotate', result: 'failed', reason: err instanceof Error ? err.name : 'Error' });
      throw err;
    } finally {
      tokens.dispose();
      opened.masterKey.dispose();
      await opened.store.close();
      await audit.close();
    }
  },
};
