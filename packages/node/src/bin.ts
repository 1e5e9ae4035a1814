#!/usr/bin/env node
import { parseNodeConfig } from './config';
import { startNode } from './node';

async function main(): Promise<void> {
  const config = await parseNodeConfig(process.argv.slice(2), process.env);
  if (config.kind === 'exit') {
    (config.code === 0 ? process.stdout : process.stderr).write(`${config.output}\n`);
    process.exitCode = config.code;
    return;
  }
  let node;
  try {
    node = await startNode(config.options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what =
      code === 'EADDRINUSE'
        ? `port ${config.options.port} is already in use`
        : err instanceof Error
          ? err.message
          : String(err);
    process.stderr.write(`kv-node: cannot start: ${what}\n`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    node.close({ leave: true }).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(
          `kv-node: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
