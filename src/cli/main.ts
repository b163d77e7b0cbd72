/**
 * `gatehouse` command line. Exit codes: 0 success, 1 runtime failure, 2 usage or
 * configuration error. `--json` gives machine-readable output where it makes sense.
 */
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '../config/load.ts';
import { locateConfig } from '../config/locate.ts';
import { commands } from './commands.ts';
import type { Command } from './command.ts';
import { describeStore, StoreAccessError } from './services.ts';

/** Command names in one column, as wide as the longest name plus two spaces. */
const NAME_WIDTH = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;

const USAGE = `gatehouse — policy enforcement gateway for MLflow

Usage: gatehouse <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(NAME_WIDTH)}${c.summary}`)
  .join('\n')}

Common options:
  -c, --config <file>   YAML configuration. Default: $GATEHOUSE_CONFIG, else ./gatehouse.yaml, else
                        gatehouse.yaml in the quickstart's data directory ($GATEHOUSE_DATA_DIR, else
                        .data/quickstart of this checkout), else built-in defaults. Commands that
                        change something print which file and store they use.
      --json            machine-readable output
  -h, --help            this help, or a command's help

Environment: GATEHOUSE_<SECTION>__<KEY> overrides any option (see docs/config.md).
`;

export async function main(argv: string[]): Promise<number> {
  const words: string[] = [];
  let i = 0;
  while (i < argv.length && !argv[i]!.startsWith('-') && words.length < 2) words.push(argv[i++]!);
  let name = words.join(' ');
  if (!(name in commands)) name = words[0] ?? '';
  const command: Command | undefined = commands[name];
  const rest = argv.slice(name === '' ? 0 : name.split(' ').length);
  if (!command) {
    const wantsHelp = argv.length === 0 || argv.includes('-h') || argv.includes('--help');
    process[wantsHelp ? 'stdout' : 'stderr'].write(wantsHelp ? USAGE : `unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return wantsHelp ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...command.options,
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  const flag = parsed.values.config as string | undefined;
  const located = locateConfig({ flag });
  const configFile = located.file;
  try {
    const config = command.needsConfig === false ? undefined : loadConfig({ file: configFile });
    // Which gateway a change reaches is never a guess: the file and the store, before anything is changed.
    if (config && command.writes) process.stderr.write(`gatehouse: configuration ${configFile ?? '(none)'} (${located.via}); store ${describeStore(config)}\n`);
    return await command.run({ config, values: parsed.values, positionals: parsed.positionals, configFile, configFlag: flag, writes: command.writes === true });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StoreAccessError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stderr.write(`gatehouse ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

// `gatehouse ... | head`: a reader that stops early is not an error of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
