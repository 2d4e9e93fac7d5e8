/**
 * A throwaway PKI for tests, made with the `openssl` CLI in a temporary
 * directory: a CA, a server certificate for `localhost`/127.0.0.1/::1, a client
 * certificate, an expired server certificate, a server certificate for the
 * wrong name and a second, unrelated CA, and on demand certificates that
 * expire when a test says (`issue`). Every item comes as PEM strings and as
 * file paths.
 *
 * ```ts
 * const pki = await createTestPki();
 * try {
 *   https.createServer({ cert: pki.server.cert, key: pki.server.key }, handler);
 * } finally {
 *   await pki.cleanup();
 * }
 * ```
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as PEM text and as files. */
export interface TestIdentity {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** What {@link createTestPki} produces. Call `cleanup()` when done. */
export interface TestPki {
  /** The temporary directory holding every file. */
  readonly dir: string;
  /** The CA that signed `server`, `client`, `expired` and `wrongName`. */
  readonly ca: TestIdentity;
  /** A CA that signed nothing here: trusting it instead of `ca` gives "unknown CA". */
  readonly otherCa: TestIdentity;
  /** Server certificate for DNS `localhost`, IP 127.0.0.1 and ::1. */
  readonly server: TestIdentity;
  /** Client certificate (CN `test-client`, extended key usage clientAuth). */
  readonly client: TestIdentity;
  /** Server certificate for localhost/127.0.0.1 that expired in 2020. */
  readonly expired: TestIdentity;
  /** Server certificate for `wrong-name.invalid` only. */
  readonly wrongName: TestIdentity;
  /**
   * Issues a new certificate signed by `ca` that expires `validForMs` from now
   * (valid since an hour ago): a `server` one for localhost/127.0.0.1/::1 or
   * a `client` one. Calls run one after another (`openssl ca` keeps a database).
   */
  issue(name: string, spec: IssueSpec): Promise<TestIdentity & { readonly notAfter: Date }>;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

/** What {@link TestPki.issue} makes. */
export interface IssueSpec {
  readonly kind: 'server' | 'client';
  /** Milliseconds from now until `notAfter`. */
  readonly validForMs: number;
}

const SERVER_EXTENSIONS = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
].join('\n');

const CLIENT_EXTENSIONS = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=clientAuth',
].join('\n');

/** `20261130114500Z`, the date format of `openssl ca` (whole seconds). */
function opensslDate(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
}

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr || String(error)}`, { cause: error });
  }
}

async function identity(dir: string, name: string): Promise<TestIdentity> {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}-key.pem`);
  return {
    cert: await readFile(certPath, 'utf8'),
    key: await readFile(keyPath, 'utf8'),
    certPath,
    keyPath,
  };
}

async function makeCa(dir: string, name: string, subject: string): Promise<void> {
  await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.pem`]);
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    `${name}-key.pem`,
    '-subj',
    subject,
    '-days',
    '3650',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    `${name}.pem`,
  ]);
}

/**
 * Signs a leaf certificate with `ca` through `openssl ca`, which (unlike
 * `openssl x509 -req` in OpenSSL 3.0) accepts explicit start and end dates, so
 * an already-expired certificate can be made without faking the clock.
 */
async function makeLeaf(
  dir: string,
  name: string,
  spec: { subject: string; extensions: string; startDate?: string; endDate?: string },
): Promise<void> {
  await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-key.pem`]);
  await openssl(dir, [
    'req',
    '-new',
    '-key',
    `${name}-key.pem`,
    '-subj',
    spec.subject,
    '-out',
    `${name}.csr`,
  ]);
  await writeFile(join(dir, `${name}.ext`), `[ext]\n${spec.extensions}\n`);
  await openssl(dir, [
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-notext',
    '-in',
    `${name}.csr`,
    '-out',
    `${name}.pem`,
    '-extfile',
    `${name}.ext`,
    '-extensions',
    'ext',
    '-startdate',
    spec.startDate ?? '20240101000000Z',
    '-enddate',
    spec.endDate ?? '20991231000000Z',
  ]);
}

const CA_CONFIG = `[ca]
default_ca = test_ca
[test_ca]
dir = .
database = index.txt
new_certs_dir = issued
certificate = ca.pem
private_key = ca-key.pem
serial = serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
`;

/** Creates a fresh PKI in a new temporary directory (about a second of `openssl` runs). */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'provider-health-pki-'));
  try {
    await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), '1000\n');
    await mkdir(join(dir, 'issued'));
    await makeCa(dir, 'ca', '/CN=provider-health test CA');
    await makeCa(dir, 'other-ca', '/CN=provider-health unrelated CA');
    const serverExtensions = SERVER_EXTENSIONS;
    await makeLeaf(dir, 'server', { subject: '/CN=localhost', extensions: serverExtensions });
    await makeLeaf(dir, 'expired', {
      subject: '/CN=localhost',
      extensions: serverExtensions,
      startDate: '20190101000000Z',
      endDate: '20200101000000Z',
    });
    await makeLeaf(dir, 'wrong-name', {
      subject: '/CN=wrong-name.invalid',
      extensions: [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=DNS:wrong-name.invalid',
      ].join('\n'),
    });
    await makeLeaf(dir, 'client', {
      subject: '/CN=test-client',
      extensions: CLIENT_EXTENSIONS,
    });
    let queue: Promise<unknown> = Promise.resolve();
    const issue = (name: string, spec: IssueSpec): Promise<TestIdentity & { readonly notAfter: Date }> => {
      const run = queue.then(async () => {
        // Whole seconds: the certificate cannot say more.
        const notAfter = new Date(Math.floor((Date.now() + spec.validForMs) / 1000) * 1000);
        await makeLeaf(dir, name, {
          subject: spec.kind === 'server' ? '/CN=localhost' : `/CN=${name}`,
          extensions: spec.kind === 'server' ? SERVER_EXTENSIONS : CLIENT_EXTENSIONS,
          startDate: opensslDate(new Date(Date.now() - 3_600_000)),
          endDate: opensslDate(notAfter),
        });
        return { ...(await identity(dir, name)), notAfter };
      });
      queue = run.catch(() => undefined);
      return run;
    };
    return {
      dir,
      ca: await identity(dir, 'ca'),
      otherCa: await identity(dir, 'other-ca'),
      server: await identity(dir, 'server'),
      client: await identity(dir, 'client'),
      expired: await identity(dir, 'expired'),
      wrongName: await identity(dir, 'wrong-name'),
      issue,
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
