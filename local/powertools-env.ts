/**
 * The handlers' Powertools settings locally. Powertools' Logger and Metrics read theirs from
 * process.env when they are built (not from the environment a handler is given), so the handlers
 * that run in this process are built with the pipeline's settings in process.env for that moment
 * only: the process's own environment, and whatever else is built in it, is left as it was.
 */

/** The handlers' log level: LOG_LEVEL, else POWERTOOLS_LOG_LEVEL, else WARN. */
export function handlerLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOG_LEVEL ?? env.POWERTOOLS_LOG_LEVEL ?? 'WARN';
}

/** Powertools variables for every local handler: the log level, and no EMF metrics. */
export function powertoolsEnvironment(logLevel: string): Record<string, string> {
  return { POWERTOOLS_LOG_LEVEL: logLevel, POWERTOOLS_METRICS_DISABLED: 'true' };
}

/** Runs `build` with `variables` set in process.env, then puts every one of them back as it was. */
export function withProcessEnv<T>(variables: Readonly<Record<string, string>>, build: () => T): T {
  const saved = Object.keys(variables).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, variables);
  try {
    return build();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
