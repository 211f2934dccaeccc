/**
 * Progress of a long ops command, for a person watching: one line on stderr, rewritten in place.
 * Nothing when stderr is not a terminal (a pipe, CI, a script reading --json): the result says it all.
 */
export function showProgress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\u001b[2K  ${line}`);
}

/** Ends the progress line, leaving its last state on screen. */
export function endProgress(): void {
  if (process.stderr.isTTY) process.stderr.write('\n');
}
