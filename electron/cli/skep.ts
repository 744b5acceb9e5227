#!/usr/bin/env node
// The `skep` command line. Commands read as Docker's do: `skep <noun> <verb>`.
import { Command, InvalidArgumentError } from 'commander';
import { SKEP_VERSION } from '../../shared/version.js';
import { runInfo } from './info-command.js';
import { runUi } from './ui-command.js';

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return port;
}

const program = new Command()
  .name('skep')
  .description('A self-hosted swarm for the machines of your home lab.')
  .version(SKEP_VERSION, '-v, --version', 'Print version information and quit')
  .showHelpAfterError();

program
  .command('ui')
  .description('Serve the Skep window in a browser, on this machine only (for a headless box)')
  .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
  .option('-p, --port <port>', 'port to listen on (0 picks a free one)', portNumber, 0)
  .option('--data-dir <dir>', 'node data directory')
  .option('--reason <text>', 'a sentence printed before the URL')
  .action(async (options: { host: string; port: number; dataDir?: string; reason?: string }) => {
    if (!/^(127\.|localhost$|::1$)/.test(options.host)) {
      throw new InvalidArgumentError('browser mode listens on loopback only (127.0.0.1, ::1 or localhost)');
    }
    await runUi(options);
  });

program
  .command('info')
  .description('Display this machine\'s facts as Skep sees them')
  .option('--format <format>', 'output format: "json" or the default table')
  .action(async (options: { format?: string }) => runInfo(options.format));

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
