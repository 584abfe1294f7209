/**
 * Throwaway certificates for SIP over TLS tests, made by the system's `openssl` in a temporary
 * directory: a test CA, a certificate it signs for the names and addresses given (as
 * subjectAltName, which is what TLS checks, RFC 6125), and a second CA that signs nothing here
 * (a client trusting it refuses our server). Removed with `remove()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The test CA's certificate (PEM) and its file. */
  ca: string;
  caFile: string;
  /** A certificate signed by the test CA for `names`, and its key (PEM), and their files. */
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** Another CA's certificate: trusting only it, a client refuses `cert`. */
  otherCa: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** `names`: DNS names and IP addresses the certificate is for (default localhost and 127.0.0.1). */
export function makeTestCertificates(names: readonly string[] = ['localhost', '127.0.0.1']): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'conclave-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  const san = names.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? `IP:${n}` : `DNS:${n}`)).join(',');
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${names[0] ?? 'localhost'}`, '-keyout', 'server.key', '-out', 'server.csr']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem']);
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    ca: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    cert: read('server.pem'),
    key: read('server.key'),
    certFile: join(dir, 'server.pem'),
    keyFile: join(dir, 'server.key'),
    otherCa: read('other-ca.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
