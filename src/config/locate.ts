/**
 * Which configuration file a `gatehouse` command reads when none is named on its command line.
 * `serve` and every other command use this one rule, so the CLI finds the running gateway's
 * configuration — and so its store — without flags:
 *
 * 1. `-c FILE`;
 * 2. `GATEHOUSE_CONFIG`;
 * 3. `gatehouse.yaml` in the working directory;
 * 4. `gatehouse.yaml` in the quickstart's data directory: `GATEHOUSE_DATA_DIR` when set, else
 *    `.data/quickstart` of this checkout (scripts/quickstart writes its configuration there);
 * 5. none: built-in defaults and `GATEHOUSE_*` variables.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The checkout (or installed package) this module belongs to. */
const ROOT = resolve(import.meta.dirname, '../..');

/** Where scripts/quickstart keeps its store, audit and configuration unless GATEHOUSE_DATA_DIR moves them. */
export const QUICKSTART_DATA_DIR = join(ROOT, '.data', 'quickstart');

export const CONFIG_FILE_NAME = 'gatehouse.yaml';

export interface LocatedConfig {
  /** Absolute path of the file to read; undefined: built-in defaults and the environment only. */
  readonly file: string | undefined;
  /** How it was found, for the line mutating commands print (`-c`, `GATEHOUSE_CONFIG`, ...). */
  readonly via: string;
}

export function locateConfig(options: { readonly flag?: string | undefined; readonly env?: NodeJS.ProcessEnv; readonly cwd?: string }): LocatedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  if (options.flag !== undefined) return { file: resolve(cwd, options.flag), via: '-c' };
  // An empty GATEHOUSE_CONFIG is unset, as a shell's `GATEHOUSE_CONFIG= cmd` means.
  if (env.GATEHOUSE_CONFIG) return { file: resolve(cwd, env.GATEHOUSE_CONFIG), via: 'GATEHOUSE_CONFIG' };
  const local = resolve(cwd, CONFIG_FILE_NAME);
  if (existsSync(local)) return { file: local, via: `./${CONFIG_FILE_NAME}` };
  const dataDir = env.GATEHOUSE_DATA_DIR ? resolve(cwd, env.GATEHOUSE_DATA_DIR) : QUICKSTART_DATA_DIR;
  const quickstart = join(dataDir, CONFIG_FILE_NAME);
  if (existsSync(quickstart)) return { file: quickstart, via: env.GATEHOUSE_DATA_DIR ? 'GATEHOUSE_DATA_DIR' : "the quickstart's data directory" };
  return { file: undefined, via: 'no configuration file: built-in defaults and GATEHOUSE_* variables' };
}
