/** Subcommands that run a server in this process, and the script names they report. */
export const SERVER_COMMANDS = {
  coordinator: 'kv coordinator',
  node: 'kv node',
} as const;

/** `coordinator` or `node`. */
export type ServerCommand = keyof typeof SERVER_COMMANDS;

/** Whether `word` names a server subcommand. */
export function isServerCommand(word: string | undefined): word is ServerCommand {
  return word === 'coordinator' || word === 'node';
}

/**
 * Runs `kv coordinator ...` or `kv node ...`: the server's own command (`@kv/coordinator`
 * or `@kv/node` `main`), with every argument after the subcommand passed through as given,
 * `--help` included. The server handles its flags, `KV_*` variables, signals and exit
 * code. Loaded on demand, so the data commands do not pay for loading the servers.
 */
export async function runServer(
  command: ServerCommand,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const scriptName = SERVER_COMMANDS[command];
  if (command === 'coordinator') {
    const { main } = await import('@kv/coordinator');
    await main(argv, env, scriptName);
  } else {
    const { main } = await import('@kv/node');
    await main(argv, env, scriptName);
  }
}
