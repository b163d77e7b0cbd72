/**
 * What a CLI subcommand is (src/cli/commands.ts lists them): a summary, a usage text, its options
 * and a run function returning the exit code. Its own module so that the files defining
 * subcommands need not import the list that includes them.
 */
import type { Config } from '../config/schema.ts';

export interface CommandInput {
  readonly config: Readonly<Config> | undefined;
  readonly values: Record<string, unknown>;
  readonly positionals: string[];
  readonly configFile: string | undefined;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly needsConfig?: boolean;
  readonly options?: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(input: CommandInput): Promise<number>;
}

/** `true` / `false` → boolean; absent → undefined; anything else → null (a usage error). */
export function flag(v: unknown): boolean | undefined | null {
  if (v === undefined) return undefined;
  return v === 'true' ? true : v === 'false' ? false : null;
}
