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
  /** The configuration file in use (src/config/locate.ts); undefined: built-in defaults. */
  readonly configFile: string | undefined;
  /** The file named with `-c`, if one was. */
  readonly configFlag?: string | undefined;
  /** The command changes the store: it may create and migrate it (else an absent store is an error). */
  readonly writes?: boolean;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly needsConfig?: boolean;
  /**
   * Changes the store (users, tokens, policy, migrations): the CLI prints which configuration file
   * and store it uses first, and may create the store. Commands without it only read, and refuse a
   * store that does not exist rather than create an empty one.
   */
  readonly writes?: boolean;
  readonly options?: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(input: CommandInput): Promise<number>;
}

/** `true` / `false` → boolean; absent → undefined; anything else → null (a usage error). */
export function flag(v: unknown): boolean | undefined | null {
  if (v === undefined) return undefined;
  return v === 'true' ? true : v === 'false' ? false : null;
}
