/** `ciphergate group add NAME [--confidential]`: a group sip:NAME@<sip.domain>, without members. */
import { EXIT_OK, println } from './command';
import { GROUP_ARG, groupCommand } from './group-common';
import { printable } from './user-common';

export const groupAddCommand = groupCommand({
  name: 'group add',
  summary: 'Create a messaging group (sip:NAME@domain)',
  usage: 'NAME [--confidential]',
  help: 'Command options:\n  --confidential         Messages to the group are never stored (480 for members offline)',
  options: { confidential: { type: 'boolean' } },
  args: GROUP_ARG,
  async act(target, values, args, io) {
    const g = await target.addGroup(args[0]!, values.confidential === true);
    println(io.stdout, `Group '${printable(g.name)}' created: ${printable(g.uri)}${g.confidential ? ' (confidential)' : ''}`);
    println(io.stdout, `Add members with: ciphergate group member add ${printable(g.name)} USER`);
    return EXIT_OK;
  },
});
