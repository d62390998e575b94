import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a throw-away PKI for TLS tests, all in one folder. */
export interface TestCertificates {
  /** The CA that signed the broker and client certificates. */
  caFile: string;
  /** A second, unrelated CA: trusting only it must make every TLS connection to the broker fail. */
  otherCaFile: string;
  /** Broker key (PKCS#8) followed by its certificate and the CA: Kafka's ssl.keystore.type=PEM layout. */
  brokerKeystoreFile: string;
  /** The broker certificate's subject alternative names. */
  brokerNames: readonly string[];
  /** The same server certificate and key as separate files (a TLS proxy or any other server in a test). */
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function selfSignedCa(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-noenc', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function signedLeaf(dir: string, name: string, cn: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-noenc', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

/**
 * Makes a CA, a broker certificate for localhost/127.0.0.1, a client certificate and an unrelated
 * CA with the machine's openssl, in `dir` (a temp folder of the test). Nothing is reused across runs.
 */
export function makeTestCertificates(dir: string): TestCertificates {
  selfSignedCa(dir, 'ca', 'kaudit test CA');
  selfSignedCa(dir, 'other-ca', 'some other CA');
  const brokerNames = ['localhost', '127.0.0.1'];
  signedLeaf(dir, 'broker', 'localhost', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  signedLeaf(dir, 'client', 'kaudit-client', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const brokerKeystoreFile = join(dir, 'broker-keystore.pem');
  writeFileSync(brokerKeystoreFile, read('broker.key') + read('broker.crt') + read('ca.pem'), { mode: 0o600 });
  return {
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    brokerKeystoreFile,
    brokerNames,
    serverCertFile: join(dir, 'broker.crt'),
    serverKeyFile: join(dir, 'broker.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
  };
}
