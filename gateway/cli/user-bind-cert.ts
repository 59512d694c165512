/**
 * `ciphergate user bind-cert NAME --fingerprint AB:CD:...`: binds a client certificate (its SHA-256
 * fingerprint, RFC 8122 §5 notation or bare hex) to the user.
 */
import { EXIT_OK, UsageError, println } from './command';
import { accountCommand, NAME_ARG, printable } from './user-common';

export const userBindCertCommand = accountCommand({
  name: 'user bind-cert',
  summary: 'Bind a client certificate (SHA-256 fingerprint) to a user',
  usage: 'NAME --fingerprint AB:CD:...',
  help: 'Command options:\n  --fingerprint FP       SHA-256 fingerprint (openssl x509 -noout -fingerprint -sha256 -in cert.pem)',
  options: { fingerprint: { type: 'string' } },
  args: NAME_ARG,
  validate(values) {
    if (typeof values.fingerprint !== 'string') throw new UsageError('user bind-cert: --fingerprint is required');
  },
  async act(target, values, args, io) {
    const stored = await target.bindCert(args[0]!, values.fingerprint as string);
    println(io.stdout, `Certificate sha-256 ${stored} bound to '${printable(args[0]!)}'.`);
    return EXIT_OK;
  },
});
