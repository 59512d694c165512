/**
 * The list of CLI subcommands. To add one: write gateway/cli/<name>.ts exporting a CliCommand and
 * add it here. Names may have several words ("user add"); the runner matches the longest.
 */
import { checkConfigCommand } from './check-config';
import type { CliCommand } from './command';
import { createStartCommand, type StartDeps } from './start';

export function defaultCommands(startDeps: Partial<StartDeps> = {}): CliCommand[] {
  return [createStartCommand(startDeps), checkConfigCommand];
}
