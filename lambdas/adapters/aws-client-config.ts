/**
 * What every AWS SDK client of the functions shares. Endpoints come from the standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables (unset on AWS), so the same code talks to AWS or to the
 * local stand-ins without knowing which. The environment is passed in, so the local runner can host
 * several pipelines in one process. Each client lives in its own module, so a function's bundle
 * loads only the SDK clients it uses.
 */
import type { Environment, EnvName } from '../shared/env';

export function awsClientConfig(env: Environment, endpointVariable: EnvName) {
  const endpoint = env[endpointVariable];
  const region = env.AWS_REGION;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  return {
    // Options for the SDK's default HTTP/1.1 handler: fail fast rather than hang a request. Given
    // as options, so the bundle does not import @smithy itself (the runtime's SDK is used whole).
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    maxAttempts: 3,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(endpoint && accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}
