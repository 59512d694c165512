/** Fresh master keying material for a profile, from node:crypto's CSPRNG (RFC 3711 §8.1). */
import { randomBytes } from 'node:crypto';
import { SrtpConfigError } from './errors';
import { getSrtpProfile, type SrtpProfile, type SrtpProfileName } from './profiles';

export interface SrtpKeyMaterial {
  readonly masterKey: Buffer;
  readonly masterSalt: Buffer;
}

export function generateKeyMaterial(profile: SrtpProfileName | SrtpProfile): SrtpKeyMaterial {
  const p = typeof profile === 'string' ? getSrtpProfile(profile) : profile;
  if (!p) throw new SrtpConfigError(`unknown SRTP profile ${JSON.stringify(String(profile))}`);
  return { masterKey: randomBytes(p.keyLength), masterSalt: randomBytes(p.saltLength) };
}
