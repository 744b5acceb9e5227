#!/usr/bin/env node
// The `skep` command line. Commands read as Docker's do: `skep <noun> <verb>`.
import { Command, InvalidArgumentError, Option } from 'commander';
import { SKEP_VERSION } from '../../shared/version.js';
import { defaultControlAddress } from '../agent/data-dir.js';
import type { ClientFactory } from './client-factory.js';
import { connectControl, type ControlClient } from './control-client.js';
import { runDaemon } from './daemon-command.js';
import { runInfo } from './info-command.js';
import { nodeCommand } from './node-commands.js';
import { serviceCommand } from './service-commands.js';
import { describeError } from './output.js';
import { swarmCommand } from './swarm-commands.js';
import { runUi } from './ui-command.js';

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return port;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

const program = new Command()
  .name('skep')
  .description('A self-hosted swarm for the machines of your home lab.')
  .version(SKEP_VERSION, '-v, --version', 'Print version information and quit')
  .option('-H, --host <address>', 'Daemon socket to connect to (or SKEP_HOST)')
  .showHelpAfterError();

let openClient: ControlClient | undefined;
const client: ClientFactory = () => {
  openClient ??= connectControl((program.opts() as { host?: string }).host ?? defaultControlAddress());
  return openClient;
};

program
  .command('daemon')
  .description('Run a Skep node (the agent, and Raft when it is a manager)')
  .option('--data-dir <dir>', 'Node data directory')
  .option('--control <address>', 'Control socket (unix:///PATH.sock)')
  .option('-D, --debug', 'Enable debug logging')
  .addOption(new Option('--tick-ms <ms>', 'Raft tick in milliseconds').argParser(positiveInteger).hideHelp())
  .addOption(new Option('--heartbeat-ms <ms>', 'Agent heartbeat period in milliseconds').argParser(positiveInteger).hideHelp())
  .action(async (options: { dataDir?: string; control?: string; debug?: boolean; tickMs?: number; heartbeatMs?: number }) => {
    const host = (program.opts() as { host?: string }).host;
    await runDaemon({ ...options, ...(options.control ?? host ? { control: options.control ?? host } : {}) });
  });

program.addCommand(swarmCommand(client));
program.addCommand(nodeCommand(client));
program.addCommand(serviceCommand(client));

program
  .command('ui')
  .description('Serve the Skep window in a browser, on this machine only (for a headless box)')
  .option('--listen <address>', 'loopback address to listen on', '127.0.0.1')
  .option('-p, --port <port>', 'port to listen on (0 picks a free one)', portNumber, 0)
  .option('--data-dir <dir>', 'run a node in this process with this data directory')
  .option('--reason <text>', 'a sentence printed before the URL')
  .action(async (options: { listen: string; port: number; dataDir?: string; reason?: string }) => {
    const daemon = (program.opts() as { host?: string }).host;
    if (!/^(127\.|localhost$|::1$)/.test(options.listen)) {
      throw new InvalidArgumentError('browser mode listens on loopback only (127.0.0.1, ::1 or localhost)');
    }
    await runUi({
      host: options.listen,
      port: options.port,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(daemon ? { daemon } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    });
  });

program
  .command('info')
  .description('Display this machine\'s facts as Skep sees them')
  .option('--format <format>', 'output format: "json" or the default table')
  .action(async (options: { format?: string }) => runInfo(options.format));

program
  .parseAsync(process.argv)
  .then(() => openClient?.close())
  .catch((error: unknown) => {
    process.stderr.write(describeError(error) + '\n');
    openClient?.close();
    process.exit(1);
  });
