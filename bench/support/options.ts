/** Command-line options of the benchmarks: `--name value`, checked, with the default when absent. */

/**
 * A positive number (`--seconds 2.5`, `--rate 5000`), or zero too where zero means "none"
 * (`--warmup 0`); exits with a clear message when it is not.
 */
export function numberOption(
  argv: readonly string[],
  name: string,
  fallback: number,
  { allowZero = false } = {},
): number {
  return optionalNumberOption(argv, name, { allowZero }) ?? fallback;
}

/** As numberOption, but undefined when the option is absent (it selects a mode, like `--rate`). */
export function optionalNumberOption(
  argv: readonly string[],
  name: string,
  { allowZero = false } = {},
): number | undefined {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = Number(argv[index + 1]);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    fail(
      `--${name} takes a ${allowZero ? 'non-negative' : 'positive'} number, got '${argv[index + 1] ?? ''}'`,
    );
  }
  return value;
}

/** A comma-separated list of positive numbers (`--sizes 1,100,500`). */
export function numberListOption(argv: readonly string[], name: string, fallback: number[]): number[] {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const values = (argv[index + 1] ?? '').split(',').map(Number);
  if (values.some((value) => !Number.isFinite(value) || value <= 0)) {
    fail(
      `--${name} takes positive numbers separated by commas, like 1,100,500; got '${argv[index + 1] ?? ''}'`,
    );
  }
  return values;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
