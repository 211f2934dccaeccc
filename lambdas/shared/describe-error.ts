/**
 * One line for a log or a failure record: what kind of error (a SQLSTATE or Node `code`, else an AWS
 * SDK error's `name` such as `ThrottlingException`) and its message.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const kind = typeof code === 'string' ? code : error.name !== 'Error' ? error.name : undefined;
    return kind === undefined ? error.message : `${kind}: ${error.message}`;
  }
  return String(error);
}
