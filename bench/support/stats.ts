/** Small helpers to summarise benchmark samples. */

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function formatRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

/** Prints a progress line that overwrites itself on a terminal. */
export function progress(message: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r\u001b[2K${message}`);
  else console.log(message);
}

export function endProgress(): void {
  if (process.stdout.isTTY) process.stdout.write('\n');
}
