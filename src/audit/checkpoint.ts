/**
 * Retention checkpoints: when old events of a chain are pruned (retention.ts), a checkpoint
 * records where the remaining chain starts — the last pruned event's seq and hash, how many
 * events were pruned in all, when — signed with Ed25519, so `gatehouse audit verify` proves the
 * remaining events continue the chain from it, and a checkpoint changed or made without the key
 * is detected.
 *
 * The key is the operator's (`audit.checkpointKey`, a PKCS#8 PEM), or one generated into the data
 * directory at the first prune (mode 0600, its public key beside it). Verification uses the public
 * key given to `audit verify --public-key` (a copy kept away from the gateway: whoever holds the
 * data directory holds a generated key too), else the configured key's.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { canonicalJson, type ChainHead } from './chain.ts';

/** The signed facts of a checkpoint. */
export interface CheckpointBody {
  readonly v: 1;
  /** Which chain: `file:<active file name>` or `store:<chain>`. */
  readonly chain: string;
  /** The last pruned event: the remaining chain continues from it. */
  readonly seq: number;
  readonly hash: string;
  /** Events pruned from this chain in all, over every prune (events before the remaining chain). */
  readonly count: number;
  /** When the prune ran (ISO 8601). */
  readonly time: string;
  /** The time of the last pruned event. */
  readonly lastEventTime: string;
}

export interface Checkpoint extends CheckpointBody {
  /** SHA-256 of the signing public key (SPKI DER), hex. */
  readonly key: string;
  /** Ed25519 over the canonical JSON of the body, base64. */
  readonly signature: string;
}

export interface CheckpointKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly fingerprint: string;
}

export const fingerprintOf = (publicKey: KeyObject) => createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');

/** The key at `path`; generated there (0600, `<path>.pub` beside it) when absent and `create`. */
export async function loadCheckpointKey(path: string, create: boolean): Promise<CheckpointKey> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw new Error(`checkpoint key ${path}: ${(err as Error).message}`);
    const pair = generateKeyPairSync('ed25519');
    pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' });
    await writeFile(`${path}.pub`, pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`checkpoint key ${path}: an Ed25519 key is needed, not ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, fingerprint: fingerprintOf(publicKey) };
}

/** A key held in memory only: what a dry run signs with when no key exists yet. */
export function ephemeralCheckpointKey(): CheckpointKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, fingerprint: fingerprintOf(publicKey) };
}

/** A public key (SPKI PEM, or the private key's PEM) for verification. */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  const pem = await readFile(path, 'utf8');
  return createPublicKey(pem);
}

export function signCheckpoint(body: CheckpointBody, key: CheckpointKey): Checkpoint {
  const signature = sign(null, Buffer.from(canonicalJson(body)), key.privateKey).toString('base64');
  return { ...body, key: key.fingerprint, signature };
}

/** Why `cp` is not a valid checkpoint signed by `publicKey`, or undefined when it is. */
export function checkpointProblem(cp: Checkpoint, publicKey: KeyObject): string | undefined {
  const { key, signature, ...body } = cp;
  if (typeof signature !== 'string' || typeof body.seq !== 'number' || typeof body.hash !== 'string') return 'the checkpoint is not well-formed';
  if (key !== fingerprintOf(publicKey)) return `the checkpoint is signed by key ${String(key).slice(0, 16)}…, not by the verifying key ${fingerprintOf(publicKey).slice(0, 16)}…`;
  if (!verify(null, Buffer.from(canonicalJson(body)), publicKey, Buffer.from(signature, 'base64'))) return 'the checkpoint\'s signature does not match its content (changed after it was signed)';
  return undefined;
}

export const headOf = (cp: Checkpoint | undefined): ChainHead | undefined => (cp ? { seq: cp.seq, hash: cp.hash } : undefined);

/** The checkpoint file of a file sink: `<stem>.checkpoint.json` beside the active file. */
export const checkpointPath = (activeFile: string) => `${activeFile.endsWith('.jsonl') ? activeFile.slice(0, -'.jsonl'.length) : activeFile}.checkpoint.json`;

export async function readCheckpointFile(path: string): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Checkpoint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`checkpoint ${path}: ${(err as Error).message}`);
  }
}

/** Writes a checkpoint file atomically and durably (it replaces the previous one). */
export async function writeCheckpointFile(path: string, cp: Checkpoint): Promise<void> {
  const tmp = `${path}.tmp`;
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(`${JSON.stringify(cp, null, 2)}\n`);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
}
