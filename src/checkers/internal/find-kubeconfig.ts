/**
 * Finding kubeconfigs as kubectl does, without the peer dependency (so the
 * public types of `provider-health/kubernetes` never need it).
 * @internal
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { envValue, type Env } from './options.js';

/** Where a pod's service account is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the credentials come from: kubeconfig files, or the in-cluster service account. */
export type KubeconfigSource =
  | {
      readonly kind: 'files';
      /** The files, in merge order. */
      readonly files: readonly string[];
      /** Why these: the `kubeconfig` option, `KUBECONFIG`, or the default `~/.kube/config`. */
      readonly from: 'option' | 'KUBECONFIG' | 'default';
    }
  | {
      readonly kind: 'in-cluster';
      /** `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
      readonly server: string;
      readonly serviceAccountDir: string;
    };

function inCluster(env: Env, serviceAccountDir: string): KubeconfigSource | undefined {
  const host = envValue(env, 'KUBERNETES_SERVICE_HOST');
  const port = envValue(env, 'KUBERNETES_SERVICE_PORT');
  if (host === undefined || port === undefined || !existsSync(join(serviceAccountDir, 'token')))
    return undefined;
  // As client-go: plain HTTP only on the ports of `kubectl proxy` and friends.
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  return {
    kind: 'in-cluster',
    server: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    serviceAccountDir,
  };
}

/**
 * Which credentials the checker would use without a `kubeconfig` option, as
 * kubectl looks for them: the existing files of `KUBECONFIG`, else
 * `~/.kube/config` if it exists, else the in-cluster service account (when
 * `KUBERNETES_SERVICE_HOST`/`_PORT` are set and its token exists), else `undefined`.
 */
export function findKubeconfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): KubeconfigSource | undefined {
  const list = envValue(env, 'KUBECONFIG');
  if (list !== undefined) {
    // kubectl skips listed files that do not exist.
    const files = list.split(delimiter).filter((file) => file !== '' && existsSync(file));
    return files.length > 0 ? { kind: 'files', files, from: 'KUBECONFIG' } : undefined;
  }
  const home = envValue(env, 'HOME') ?? homedir();
  const file = join(home, '.kube', 'config');
  if (existsSync(file)) return { kind: 'files', files: [file], from: 'default' };
  return inCluster(env, serviceAccountDir);
}
