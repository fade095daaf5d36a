/**
 * The AWS CLI run inside the linux plane, as `eni-local exec` runs it: the EC2 API at its address
 * on the internet side (AWS_ENDPOINT_URL_EC2), test credentials, no shared config files, one
 * attempt (a call with no path fails at once instead of retrying into a slow test).
 */
import { spawnSync } from 'node:child_process';
import { PLANE } from '../../src/dataplane/linux/names.ts';

const version = (() => {
  const result = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const m = /aws-cli\/(\d+)\.(\d+)\.(\d+)/.exec(`${result.stdout}${result.stderr}`);
  return m ? { major: Number(m[1]), minor: Number(m[2]), text: m[0] } : undefined;
})();

/** Why the AWS CLI tests cannot run here, or false. */
export function awsCliSkip(): string | false {
  return version ? false : 'the AWS CLI (`aws`, Debian: awscli) is not installed';
}

/**
 * Whether this CLI reads AWS_ENDPOINT_URL_EC2 (service-specific endpoints: CLI v1 1.30 / v2 2.13
 * and later). Older ones, such as Debian bookworm's 2.9, need `--endpoint-url` with the same URL.
 */
export function awsCliReadsServiceEndpoints(): boolean {
  if (!version) return false;
  return version.major === 1 ? version.minor >= 30 : version.major > 2 || version.minor >= 13;
}

export const API_URL = `http://${PLANE.apiIpv4}`;

/** The arguments to put before the command's own (`--endpoint-url` only for CLIs that ignore the variable). */
export function awsCliArgs(): string[] {
  return awsCliReadsServiceEndpoints() ? [] : ['--endpoint-url', API_URL];
}

export function awsCliEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'HOME', 'PYENV_ROOT', 'PYENV_VERSION', 'LANG']) if (process.env[name]) env[name] = process.env[name];
  return {
    ...env,
    AWS_ENDPOINT_URL_EC2: API_URL,
    AWS_ACCESS_KEY_ID: 'AKIDINSTANCE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_PAGER: '',
  };
}
