/**
 * The --config / --set options shared by every command that reads the configuration.
 */
import { loadConfig, type Config } from '../../config/load';
import type { CliArgument, CliCommand, CliIo, CliOptions, CliValues } from './command';

export const CONFIG_OPTIONS: CliOptions = {
  config: { type: 'string', short: 'c' },
  set: { type: 'string', short: 's', multiple: true },
};

export const CONFIG_USAGE = '[--config FILE] [--set key=value ...]';

export const CONFIG_HELP = [
  'Options:',
  '  -c, --config FILE      YAML file merged over config/default.yaml',
  '  -s, --set key=value    Override one key (dotted path, YAML value); repeatable',
  '',
  'Precedence: default.yaml < --config FILE < environment < --set.',
  'Environment: CIPHERGATE_DATA=DIR (dataDir); CIPHERGATE__SIP__TLS_PORT=5062 (any key: "__" between',
  'levels, each level case-insensitive and ignoring "_").',
].join('\n');

/** Loads the configuration the command line and environment describe. Throws ConfigError. */
export function configFromArgs(values: CliValues, io: CliIo): Config {
  const file = typeof values.config === 'string' ? values.config : undefined;
  const set = Array.isArray(values.set) ? values.set.filter((v): v is string => typeof v === 'string') : [];
  return loadConfig({ file, set, env: io.env, cwd: io.cwd });
}

/** What a command that reads the configuration declares besides how it runs. */
export interface ConfiguredCommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Usage after the name, without the config options (appended). */
  readonly usage: string;
  readonly help?: string;
  readonly options?: CliOptions;
  readonly args?: readonly CliArgument[];
}

/** The CliCommand fields of such a command: the config options and usage appended, `sectionHelp` after its own help. */
export function configuredCommand(spec: ConfiguredCommandSpec, sectionHelp: string): Omit<CliCommand, 'run'> {
  return {
    name: spec.name,
    summary: spec.summary,
    usage: `${spec.usage} ${CONFIG_USAGE}`.trim(),
    help: spec.help === undefined ? sectionHelp : `${spec.help}\n\n${sectionHelp}`,
    options: { ...CONFIG_OPTIONS, ...spec.options },
    ...(spec.args !== undefined && { args: spec.args }),
  };
}
