import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { RespConnection } from './connection';
import { ConnectError, ConnectionClosedError, ProtocolError, TlsConfigError } from './errors';
import { createDevCertificates, OpensslError } from './dev-certificates';
import { ConnectionPool } from './pool';
import { createRespServer, type RespServer } from './server';
import { makeTlsFixtures, type TlsFixtures } from './test-support/tls-fixtures';
import { loadClientTls, loadServerTls } from './tls-files';
import { connectTls, listenTls, type TlsClientOptions, type TlsServerOptions } from './transport';
import { SimpleString } from './types';

let pki: TlsFixtures;
const servers: RespServer[] = [];
const closers: (() => void)[] = [];

beforeAll(async () => {
  pki = await makeTlsFixtures();
});
afterAll(() => pki.remove());
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await Promise.all(servers.splice(0).map((s) => s.close(100)));
});

const PONG = new SimpleString('PONG');

interface Started {
  readonly port: number;
  readonly handshakeErrors: string[];
  readonly protocolErrors: ProtocolError[];
}

/**
 * A PING server (`READPATH` answers how the connection is read): TLS with `tls`, plain
 * without; records what it refused.
 */
async function pingServer(tls?: Omit<TlsServerOptions, 'onHandshakeError'>): Promise<Started> {
  const handshakeErrors: string[] = [];
  const protocolErrors: ProtocolError[] = [];
  const server = createRespServer({
    handler: (args, connection) =>
      String(args[0]).toUpperCase() === 'READPATH' ? new SimpleString(connection.readPath) : PONG,
    onProtocolError: (err) => protocolErrors.push(err),
    ...(tls && {
      listen: listenTls({ ...tls, onHandshakeError: (err) => handshakeErrors.push(err.message) }),
    }),
  });
  servers.push(server);
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, handshakeErrors, protocolErrors };
}

async function dial(port: number, tls?: TlsClientOptions): Promise<RespConnection> {
  const c = await RespConnection.connect({
    port,
    connectTimeoutMs: 2000,
    ...(tls && { connect: connectTls(tls) }),
  });
  closers.push(() => c.destroy());
  return c;
}

/** Resolves once `condition` holds; polls for at most 5 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('development certificates', () => {
  it('makes a CA, a member certificate for loopback and a client certificate, keys 0600', () => {
    const { files, ca, cert, clientCert } = pki.cluster;
    const caCert = new X509Certificate(ca);
    expect(caCert.ca).toBe(true);
    const member = new X509Certificate(cert);
    expect(member.verify(caCert.publicKey)).toBe(true);
    expect(member.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(member.checkHost('localhost')).toBe('localhost');
    expect(member.ca).toBe(false);
    const client = new X509Certificate(clientCert);
    expect(client.verify(caCert.publicKey)).toBe(true);
    expect(client.checkIP('127.0.0.1')).toBeUndefined();
    for (const key of [files.caKey, files.key, files.clientKey])
      expect(statSync(key).mode & 0o777).toBe(0o600);
  });

  it('says what to do when openssl cannot be run', async () => {
    const attempt = createDevCertificates(join(pki.cluster.files.dir, 'none'), {
      openssl: 'kv-test-no-such-openssl',
    });
    await expect(attempt).rejects.toThrow(OpensslError);
    await expect(attempt).rejects.toThrow(
      "making TLS certificates needs the 'kv-test-no-such-openssl' command, which was not found: install OpenSSL (e.g. apt-get install openssl) or make the certificates yourself (docs/tls.md)",
    );
  });

  it('makes unrelated CAs on each call', () => {
    const other = new X509Certificate(pki.other.ca);
    expect(other.subject).not.toBe(new X509Certificate(pki.cluster.ca).subject);
    expect(new X509Certificate(pki.cluster.cert).verify(other.publicKey)).toBe(false);
  });
});

describe('TLS transport', () => {
  it('carries requests once the server certificate is verified against the CA', async () => {
    const { port } = await pingServer({ cert: pki.cluster.cert, key: pki.cluster.key });
    const c = await dial(port, { ca: pki.cluster.ca });
    expect(await c.send(['PING'])).toEqual(PONG);
    // TLS input is read through 'data' events: the buffer path is for plain sockets.
    expect(await c.send(['READPATH'])).toEqual(new SimpleString('stream'));
    const pool = new ConnectionPool({ connect: connectTls({ ca: pki.cluster.ca }) });
    closers.push(() => pool.close());
    expect(await pool.send(`127.0.0.1:${port}`, ['PING'])).toEqual(PONG);
    expect(await pool.send(`localhost:${port}`, ['PING'])).toEqual(PONG);
  });

  it('refuses a server whose certificate another CA signed, and the server carries on', async () => {
    const server = await pingServer({ cert: pki.other.cert, key: pki.other.key });
    const attempt = dial(server.port, { ca: pki.cluster.ca });
    await expect(attempt).rejects.toThrow(ConnectError);
    await expect(attempt).rejects.toThrow(
      `cannot connect to 127.0.0.1:${server.port} (UNABLE_TO_VERIFY_LEAF_SIGNATURE: the server's certificate is not signed by a trusted CA`,
    );
    await until(() => server.handshakeErrors.length === 1);
    const good = await dial(server.port, { ca: pki.other.ca });
    expect(await good.send(['PING'])).toEqual(PONG);
  });

  it('refuses a server certificate that does not name the host', async () => {
    const { port } = await pingServer({ cert: pki.cluster.cert, key: pki.cluster.key });
    const attempt = dial(port, { ca: pki.cluster.ca, servername: 'kv.example.org' });
    await expect(attempt).rejects.toThrow(
      /ERR_TLS_CERT_ALTNAME_INVALID: the server's certificate does not name/,
    );
  });

  it('turns away a plain client on a TLS port without affecting the server', async () => {
    const server = await pingServer({ cert: pki.cluster.cert, key: pki.cluster.key });
    const plain = await dial(server.port);
    await expect(plain.send(['PING'])).rejects.toThrow(ConnectionClosedError);
    await until(() => server.handshakeErrors.length === 1);
    expect(server.handshakeErrors[0]).toMatch(
      /wrong version number|http request|unknown protocol/i,
    );
    const good = await dial(server.port, { ca: pki.cluster.ca });
    expect(await good.send(['PING'])).toEqual(PONG);
  });

  it('cuts off a TLS client on a plain port at once, saying why', async () => {
    const server = await pingServer();
    const attempt = dial(server.port, { ca: pki.cluster.ca });
    await expect(attempt).rejects.toThrow(ConnectError);
    await expect(attempt).rejects.not.toThrow(/ETIMEDOUT/);
    expect(server.protocolErrors.map((e) => e.message)).toEqual([
      'a TLS handshake arrived on a port that speaks plain RESP (connect without TLS, or give the server a certificate)',
    ]);
    const plain = await dial(server.port);
    expect(await plain.send(['PING'])).toEqual(PONG);
  });

  it('cuts off a peer that never finishes its handshake, and closes with one pending', async () => {
    const server = await pingServer({
      cert: pki.cluster.cert,
      key: pki.cluster.key,
      handshakeTimeoutMs: 200,
    });
    const silent: Socket = connect({ port: server.port, host: '127.0.0.1' });
    silent.on('error', () => undefined);
    closers.push(() => silent.destroy());
    await new Promise((resolve) => silent.once('close', resolve));
    expect(server.handshakeErrors).toEqual([expect.stringMatching(/timed? ?out/i)]);
    // A handshake left pending does not hold up closing the server.
    const stalled: Socket = connect({ port: server.port, host: '127.0.0.1' });
    stalled.on('error', () => undefined);
    closers.push(() => stalled.destroy());
    await new Promise((resolve) => stalled.once('connect', resolve));
    const closed = new Promise((resolve) => stalled.once('close', resolve));
    await Promise.all(servers.splice(0).map((s) => s.close(50)));
    await closed;
  });
});

describe('mutual TLS', () => {
  const mutual = (): Omit<TlsServerOptions, 'onHandshakeError'> => ({
    cert: pki.cluster.cert,
    key: pki.cluster.key,
    ca: pki.cluster.ca,
    requestCert: true,
  });

  it('serves a peer presenting a certificate of the cluster CA', async () => {
    const { port } = await pingServer(mutual());
    for (const [cert, key] of [
      [pki.cluster.cert, pki.cluster.key],
      [pki.cluster.clientCert, pki.cluster.clientKey],
    ] as const) {
      const c = await dial(port, { ca: pki.cluster.ca, cert, key });
      expect(await c.send(['PING'])).toEqual(PONG);
    }
  });

  it('refuses a peer with a certificate from another CA, or none', async () => {
    const server = await pingServer(mutual());
    const outsider = { ca: pki.cluster.ca, cert: pki.other.cert, key: pki.other.key };
    // TLS 1.3 clients finish their side before the server checks their certificate: the
    // refusal closes the connection at the first request.
    const refusal = (tls: TlsClientOptions): Promise<unknown> =>
      dial(server.port, tls).then((c) => c.send(['PING']));
    for (const tls of [outsider, { ca: pki.cluster.ca }]) {
      await expect(refusal(tls)).rejects.toThrow(
        `connection to 127.0.0.1:${server.port} closed by the server before any reply (a TLS server closes like this when it refuses the client certificate, or requires one)`,
      );
    }
    await until(() => server.handshakeErrors.length === 2);
    expect(server.handshakeErrors).toEqual([
      expect.stringMatching(
        /^client certificate refused \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT)/,
      ),
      'client certificate refused (no certificate presented)',
    ]);
  });
});

describe('TLS settings', () => {
  it('refuses a key that does not match its certificate, or a half pair', () => {
    expect(() => listenTls({ cert: pki.cluster.cert, key: pki.other.key })).toThrow(TlsConfigError);
    expect(() => listenTls({ cert: pki.cluster.cert, key: pki.other.key })).toThrow(
      /TLS server: .*(key values mismatch|private key does not match)/,
    );
    expect(() => connectTls({ cert: pki.cluster.cert })).toThrow(
      'TLS client: a TLS certificate needs its key, and a key its certificate',
    );
    expect(() =>
      listenTls({ cert: pki.cluster.cert, key: pki.cluster.key, requestCert: true }),
    ).toThrow('TLS server: client certificates need the CA that signs them');
  });

  it('reads server files, and names the flag of what is missing or wrong', async () => {
    const { files } = pki.cluster;
    const tls = loadServerTls({ tlsCert: files.cert, tlsKey: files.key, tlsCa: files.ca });
    expect(tls).toEqual({
      cert: pki.cluster.cert,
      key: pki.cluster.key,
      ca: pki.cluster.ca,
      requestCert: false,
      handshakeTimeoutMs: 10_000,
    });
    expect(loadServerTls({})).toBeUndefined();
    expect(() => loadServerTls({ tlsCert: files.cert, tlsKey: pki.other.files.key })).toThrow(
      new RegExp(`^--tls-cert ${files.cert}, --tls-key ${pki.other.files.key}: .*mismatch`),
    );
    expect(() => loadServerTls({ tlsCert: files.cert })).toThrow(
      '--tls-cert needs --tls-key: TLS takes a certificate and its key',
    );
    expect(() => loadServerTls({ tlsCa: files.ca })).toThrow(
      "--tls-ca needs --tls-cert and --tls-key (the server's certificate and key)",
    );
    expect(() =>
      loadServerTls({ tlsCert: files.cert, tlsKey: files.key, tlsClientCerts: true }),
    ).toThrow('--tls-client-certs needs --tls-ca');
    const missing = join(files.dir, 'missing.pem');
    expect(() => loadServerTls({ tlsCert: missing, tlsKey: files.key })).toThrow(
      `cannot read --tls-cert ${missing} (ENOENT)`,
    );
    const notPem = join(files.dir, 'not.pem');
    await writeFile(notPem, 'hello');
    expect(() => loadClientTls({ ca: notPem })).toThrow(`--tls-ca ${notPem} is not a PEM file`);
    expect(() => loadClientTls({ key: files.key })).toThrow('--tls-key needs --tls-cert');
    expect(loadClientTls({ ca: files.ca })).toEqual({ ca: pki.cluster.ca });
  });
});
