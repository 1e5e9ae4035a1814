import { connect, type Socket } from 'node:net';
import { waitFor } from './wait-for';

/** A plain TCP client, as `nc` would be: writes text, collects everything it receives. */
export class RawClient {
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private data = '';

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Everything received so far. */
  get received(): string {
    return this.data;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until what was received ends with `suffix`, then returns all of it and forgets it. */
  async until(suffix: string): Promise<string> {
    await waitFor(() => this.data.endsWith(suffix), `a reply ending in ${JSON.stringify(suffix)}`);
    const all = this.data;
    this.data = '';
    return all;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
