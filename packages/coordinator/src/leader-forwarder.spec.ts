import { connectTls, handshakeFor, readPemFile, type DevCertificates } from '@kv/protocol';
import { LeaderForwarder } from './leader-forwarder';
import { clusterAndOutsider } from './test-support/certificates';
import { start } from './test-support/coordinator-harness';

const SECRET = Buffer.from('the coordinator test secret, 32 bytes');
const args = (...words: string[]): Buffer[] => words.map((w) => Buffer.from(w));
const forwarders: LeaderForwarder[] = [];
let certs: DevCertificates;
let outsider: DevCertificates;

beforeEach(async () => {
  [certs, outsider] = await clusterAndOutsider();
});
afterEach(() => {
  for (const f of forwarders.splice(0)) f.close();
});

function forwarder(secret: Buffer | undefined, files?: DevCertificates): LeaderForwarder {
  const f = new LeaderForwarder({
    timeoutMs: 2000,
    handshake: handshakeFor({ clusterSecret: secret }),
    ...(files && {
      connect: connectTls({
        ca: readPemFile(files.ca, 'pem'),
        cert: readPemFile(files.cert, 'pem'),
        key: readPemFile(files.key, 'pem'),
      }),
    }),
  });
  forwarders.push(f);
  return f;
}

describe('LeaderForwarder', () => {
  it('runs a membership change on the leader as a member over TLS, and passes its errors on', async () => {
    const leader = await start({ clusterSecret: SECRET, tlsCert: certs.cert, tlsKey: certs.key });
    const address = `127.0.0.1:${leader.port}`;
    const f = forwarder(SECRET, certs);
    expect(await f.forward(address, args('REGISTER_NODE', '127.0.0.1', '5001'))).toEqual([
      Buffer.from('127.0.0.1:5001'),
      1,
    ]);
    expect(leader.members().map((m) => m.id)).toEqual(['127.0.0.1:5001']);
    await expect(f.forward(address, args('HEARTBEAT', '127.0.0.1', '5009'))).rejects.toThrow(
      /^NOTREGISTERED node 127\.0\.0\.1:5009 is not registered/,
    );
  });

  it('answers -UNAVAILABLE, changing nothing, without the secret, with another CA, or without TLS', async () => {
    const leader = await start({ clusterSecret: SECRET, tlsCert: certs.cert, tlsKey: certs.key });
    const address = `127.0.0.1:${leader.port}`;
    const register = args('REGISTER_NODE', '127.0.0.1', '5001');
    await expect(
      forwarder(Buffer.from('not the secret but 32 bytes long'), certs).forward(address, register),
    ).rejects.toThrow(
      /^UNAVAILABLE cannot reach the leading coordinator at .*member proof does not match/,
    );
    await expect(forwarder(SECRET, outsider).forward(address, register)).rejects.toThrow(
      /^UNAVAILABLE cannot reach the leading coordinator at /,
    );
    await expect(forwarder(SECRET).forward(address, register)).rejects.toThrow(
      /^UNAVAILABLE cannot reach the leading coordinator at /,
    );
    expect(leader.members()).toEqual([]);
  });

  it('answers -UNAVAILABLE when the leader is gone', async () => {
    const gone = await start();
    const address = `127.0.0.1:${gone.port}`;
    await gone.close();
    await expect(
      forwarder(undefined).forward(address, args('HEARTBEAT', '127.0.0.1', '5001')),
    ).rejects.toThrow(
      `UNAVAILABLE cannot reach the leading coordinator at ${address} (ECONNREFUSED): retry, or send to another coordinator`,
    );
  });
});
