/**
 * Keeps streamed bodies from piling up as garbage. Every chunk of an artifact upload or
 * download arrives in its own buffer (64 KiB, outside the JS heap) held by a small JS object;
 * the buffer is freed only when that object is collected. Small requests want a large young
 * generation (fewer, cheaper collections: docs/performance.md), but with one a GiB-sized transfer
 * leaves 60-80 MiB of dead buffers resident before V8's own external-memory trigger fires. So
 * the young generation stays large, and this governor runs a young-generation collection
 * whenever buffer memory has grown by `thresholdBytes` since the last one: streamed bytes pay
 * for their own garbage, small requests do not.
 *
 * The threshold is 4 MiB: V8 counts buffer memory toward its old-generation limit, which
 * bin/gatehouse keeps at 30 % above the live heap (≈ 10 MiB here), so at 8 MiB a 512 MiB download
 * set off 7-8 full (mark-compact) collections and at 4 MiB 1-2: the gateway spent 15-30 % less CPU
 * per streamed MiB (docs/performance.md, 2026-11-22 23:10).
 */

import { getHeapStatistics } from 'node:v8';

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
  const threshold = options.thresholdBytes ?? 4 * 1024 * 1024;
  const gc = gcFunction();
  // Without --expose-gc (the gateway started some other way than bin/gatehouse): nothing to govern with.
  if (!gc) return { collections: () => 0, stop: () => undefined };
  // V8's external memory (array buffers and external strings): process.memoryUsage() would also
  // read /proc for the RSS on every tick, and showed up in profiles under load (docs/performance.md).
  const buffers = () => getHeapStatistics().external_memory;
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
