/**
 * Keeps streamed bodies from piling up as garbage. Every chunk of an artifact upload or
 * download arrives in its own buffer (64 KiB, outside the JS heap) held by a small JS object;
 * the buffer is freed only when that object is collected. Small requests want a large young
 * generation (fewer, cheaper collections: docs/performance.md), but with one a GiB-sized transfer
 * leaves 60-80 MiB of dead buffers resident before V8's own external-memory trigger fires. So
 * the young generation stays large, and this governor runs a young-generation collection
 * whenever buffer memory has grown by `thresholdBytes` since the last one: streamed bytes pay
 * for their own garbage, small requests do not.
 */

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

export interface MemoryGovernor {
  /** Young-generation collections it ran. */
  readonly collections: () => number;
  stop(): void;
}

/** V8's `gc` function: bin/gatehouse starts Node with `--expose-gc` (flipping the flag at run time slows every request down). */
function gcFunction(): Gc | undefined {
  const gc = (globalThis as { gc?: Gc }).gc;
  return typeof gc === 'function' ? gc : undefined;
}

export function startMemoryGovernor(options: { intervalMs?: number; thresholdBytes?: number } = {}): MemoryGovernor {
  const intervalMs = options.intervalMs ?? 20;
  const threshold = options.thresholdBytes ?? 8 * 1024 * 1024;
  const gc = gcFunction();
  // Without --expose-gc (the gateway started some other way than bin/gatehouse): nothing to govern with.
  if (!gc) return { collections: () => 0, stop: () => undefined };
  const buffers = () => process.memoryUsage().arrayBuffers;
  let base = buffers();
  let count = 0;
  const timer = setInterval(() => {
    const now = buffers();
    if (now - base > threshold) {
      gc({ type: 'minor' });
      count++;
      base = buffers();
    } else if (now < base) base = now;
  }, intervalMs);
  timer.unref();
  return { collections: () => count, stop: () => clearInterval(timer) };
}
