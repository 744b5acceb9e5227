#!/usr/bin/env node
// The `skep` command line. Commands read as Docker's do: `skep <noun> <verb>`.
import { Command, InvalidArgumentError, Option } from 'commander';
import { SKEP_VERSION } from '../../shared/version.js';
import { defaultControlAddress } from '../agent/data-dir.js';
import type { ClientFactory } from './client-factory.js';
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from './completion.js';
import { connectControl, type ControlClient } from './control-client.js';
import { INSPECT_FORMAT_HELP } from './format/command-output.js';
import { useDockerHelp } from './help.js';
import { machineCommand } from './machine-commands.js';
import { nodeCommand } from './node-commands.js';
import { cliError, describeError } from './output.js';
import { serviceCommand } from './service-commands.js';
import { swarmCommand } from './swarm-commands.js';
import { useDockerUsageErrors, type UsageFailure } from './usage-errors.js';
import { runVersion } from './version-command.js';

// The node itself (daemon, ui, info) is loaded only by the commands that run one: a client command
// stays small and quick, and a daemon doesn't hold the browser server (ws) it never serves.
const loadDaemonCommand = () => import('./daemon-command.js');
const loadUiCommand = () => import('./ui-command.js');
const loadInfoCommand = () => import('./info-command.js');

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
  .usage('[OPTIONS] COMMAND')
  .description('A self-hosted swarm for the machines of your home lab.')
  .version(SKEP_VERSION, '-v, --version', 'Print version information and quit')
  .option('-H, --host <string>', 'Daemon socket to connect to: a path or unix:///PATH (or SKEP_HOST, as DOCKER_HOST)');

/** -H, else SKEP_HOST, else the default socket; like DOCKER_HOST, but only the local control socket. */
function daemonAddress(): string {
  const address = (program.opts() as { host?: string }).host ?? defaultControlAddress();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address) && !/^(unix|npipe):\/\//.test(address)) throw cliError('CONTROL_HOST_UNSUPPORTED', address);
  return address;
}

let openClient: ControlClient | undefined;
const client: ClientFactory = () => {
  openClient ??= connectControl(daemonAddress());
  return openClient;
};

program
  .command('daemon')
  .usage('[OPTIONS]')
  .description('Run a Skep node (the agent, and Raft when it is a manager)')
  .option('--data-dir <dir>', 'Node data directory')
  .option('--control <address>', 'Control socket (unix:///PATH.sock)')
  .option('-D, --debug', 'Enable debug logging')
  .addOption(new Option('--tick-ms <ms>', 'Raft tick in milliseconds').argParser(positiveInteger).hideHelp())
  .addOption(new Option('--heartbeat-ms <ms>', 'Agent heartbeat period in milliseconds').argParser(positiveInteger).hideHelp())
  .action(async (options: { dataDir?: string; control?: string; debug?: boolean; tickMs?: number; heartbeatMs?: number }) => {
    const host = (program.opts() as { host?: string }).host;
    const { runDaemon } = await loadDaemonCommand();
    await runDaemon({ ...options, ...(options.control ?? host ? { control: options.control ?? host } : {}) });
  });

program.addCommand(swarmCommand(client));
program.addCommand(nodeCommand(client));
program.addCommand(machineCommand(client));
program.addCommand(serviceCommand(client));

program
  .command('ui')
  .usage('[OPTIONS]')
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
    const { runUi } = await loadUiCommand();
    await runUi({
      host: options.listen,
      port: options.port,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(daemon ? { daemon } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    });
  });

program
  .command('version')
  .usage('[OPTIONS]')
  .description('Show the Skep version information')
  .option('-f, --format <string>', INSPECT_FORMAT_HELP)
  .action(async (options: { format?: string }) => runVersion(client, daemonAddress(), options.format));

program
  .command('completion')
  .usage('bash|zsh|fish')
  .description('Output shell completion code for the specified shell (bash, zsh or fish)')
  .argument('<shell>')
  .action((shell: string) => {
    if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) throw cliError('UNKNOWN_SHELL', shell);
    process.stdout.write(completionScript(program, shell as CompletionShell));
  });

program
  .command('info')
  .usage('[OPTIONS]')
  .description('Display this machine\'s facts as Skep sees them')
  .option('--format <format>', 'output format: "json" or the default table')
  .action(async (options: { format?: string }) => (await loadInfoCommand()).runInfo(options.format));

useDockerHelp(program);

/** Thrown out of commander's parsing: carries Docker's exit status for a wrong command line. */
class UsageExit extends Error {
  constructor(readonly failure: UsageFailure) {
    super(failure.error?.message ?? '');
  }
}
useDockerUsageErrors(program, (failure) => {
  throw new UsageExit(failure);
});

program
  .parseAsync(process.argv)
  .then(() => openClient?.close())
  .catch((error: unknown) => {
    openClient?.close();
    if (error instanceof UsageExit) {
      if (error.failure.error) process.stderr.write(describeError(error.failure.error) + '\n');
      process.exit(error.failure.exitCode);
    }
    process.stderr.write(describeError(error) + '\n');
    process.exit(1);
  });
