#!/usr/bin/env node
import { main } from './cli';

main(process.argv.slice(2), process.env).catch((err: unknown) => {
  process.stderr.write(`kv: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(4);
});
