import { Writable } from 'node:stream';
import {
  ConnectionClosedError,
  RespConnection,
  connectTls,
  readPemFile,
  type DevCertificates,
} from '@kv/protocol';
import { runCli } from './cli';
import { clusterAndOutsider } from './test-support/certificates';
import { start } from './test-support/coordinator-harness';
import { capturingLogger } from './test-support/log-sink';

let certs: DevCertificates;
let outsider: DevCertificates;
const open: RespConnection[] = [];

beforeEach(async () => {
  [certs, outsider] = await clusterAndOutsider();
});
afterEach(() => {
  for (const c of open.splice(0)) c.destroy();
});

async function dial(port: number, files?: Partial<Record<'ca' | 'cert' | 'key', string>>) {
  const pem = (path: string | undefined) =>
    path === undefined ? undefined : readPemFile(path, 'pem');
  const c = await RespConnection.connect({
    port,
    connectTimeoutMs: 2000,
    ...(files && {
      connect: connectTls({ ca: pem(files.ca), cert: pem(files.cert), key: pem(files.key) }),
    }),
  });
  open.push(c);
  return c;
}

describe('a coordinator with TLS', () => {
  it('serves TLS clients that trust its CA, and says so when it starts', async () => {
    const { logger, lines } = capturingLogger({ level: 'info' });
    const coordinator = await start({ tlsCert: certs.cert, tlsKey: certs.key, logger });
    expect(coordinator.tls).toBeDefined();
    expect(lines).toContain(`[Coordinator] Started on 127.0.0.1:${coordinator.port} (TLS)`);
    const c = await dial(coordinator.port, { ca: certs.ca });
    expect(await c.send(['LIST_NODES'])).toEqual([]);
    const plain = await dial(coordinator.port);
    await expect(plain.send(['LIST_NODES'])).rejects.toThrow(ConnectionClosedError);
  });

  it('with client certificates, serves only peers whose certificate its CA signed', async () => {
    const { logger, lines } = capturingLogger();
    const coordinator = await start({
      tlsCert: certs.cert,
      tlsKey: certs.key,
      tlsCa: certs.ca,
      tlsClientCerts: true,
      logger,
    });
    const member = await dial(coordinator.port, { ca: certs.ca, cert: certs.cert, key: certs.key });
    expect(await member.send(['LIST_NODES'])).toEqual([]);
    const stranger = await dial(coordinator.port, {
      ca: certs.ca,
      cert: outsider.cert,
      key: outsider.key,
    });
    await expect(stranger.send(['LIST_NODES'])).rejects.toThrow(ConnectionClosedError);
    expect(lines.join('\n')).toMatch(
      /\[Coordinator\] TLS handshake with 127\.0\.0\.1:\d+ failed: client certificate refused/,
    );
  });

  it('exits 2 naming the flag when a TLS file cannot be used', async () => {
    let stderr = '';
    const output = {
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      stderr: new Writable({
        write: (chunk: Buffer, _e, cb) => {
          stderr += chunk.toString();
          cb();
        },
      }),
    };
    const missing = `${certs.dir}/missing.pem`;
    const code = await runCli(
      ['--port', '0', '--tls-cert', missing, '--tls-key', certs.key],
      {},
      output,
    );
    expect(code).toBe(2);
    expect(stderr).toBe(`kv-coordinator: cannot read --tls-cert ${missing} (ENOENT)\n`);
    stderr = '';
    expect(await runCli(['--port', '0', '--tls-client-certs'], {}, output)).toBe(2);
    expect(stderr).toBe(
      "kv-coordinator: --tls-client-certs needs --tls-cert and --tls-key (the server's certificate and key)\n",
    );
  });
});
