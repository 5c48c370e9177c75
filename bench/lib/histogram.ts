/**
 * Latency histograms in microseconds. Each generator process records its own and ships it
 * encoded to the coordinator, which merges them: percentiles cannot be averaged.
 * The JS implementation is used: the WASM one needs explicit init and destroy calls.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export type { Histogram };

export function newHistogram(): Histogram {
  return build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

export function mergeHistograms(encoded: readonly string[]): Histogram {
  const merged = newHistogram();
  for (const item of encoded) {
    const part = decodeFromCompressedBase64(item, 64, false);
    merged.add(part);
  }
  return merged;
}

/** Latency figures in milliseconds (3 decimals). */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const ms = (micros: number): number => Math.round(micros) / 1000;

export function summarize(histogram: Histogram): LatencySummary {
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  };
}
