/** Where the relay threads' socket addon is built (its own file: the SRTP loader looks for it too). */
import { addonPath } from '../../../addon';

export function udpIoAddonPath(): string {
  return addonPath(__dirname, 'media/relay/io/native', 'ciphergate_udpio.node');
}
