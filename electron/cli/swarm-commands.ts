// `skep swarm …`: init, join, leave, join-token, status — Docker's words and output.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { Command, Option } from 'commander';
import { checkNodeAddresses, type AddressField } from '../../shared/addresses.js';
import { skepError } from '../../shared/errors.js';
import type { NodeRole } from '../../shared/types.js';
import type { ClientFactory } from './client-factory.js';
import { cliError, clientSide, print } from './output.js';
import { managerChangeNote, plannedManagerChange } from './quorum-note.js';

/** docker/cli printUnlockCommand, "docker" → "skep". */
function unlockKeyBlock(key: string): string {
  return (
    'To unlock a swarm manager after it restarts, run the `skep swarm unlock`\ncommand and provide the following key:\n\n' +
    `    ${key}\n\n` +
    'Remember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n'
  );
}

/** Docker's readKey: no echo on a terminal; otherwise one line from standard input. Never argv. */
async function readUnlockKey(): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) return (await readStdin()).split('\n')[0]!.trim();
  process.stdout.write('Enter unlock key: ');
  input.setRawMode(true);
  input.resume();
  let key = '';
  try {
    for await (const chunk of input) {
      for (const char of (chunk as Buffer).toString('utf8')) {
        if (char === '\r' || char === '\n') return key.trim();
        if (char === '\u0003') throw new Error('interrupted');
        if (char === '\u007f' || char === '\b') key = key.slice(0, -1);
        else key += char;
      }
    }
    return key.trim();
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stdout.write('\n');
  }
}

/** Go's strconv.ParseBool, which Docker's --autolock=true|false goes through. */
function parseBool(value: string, flag: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw cliError('BOOL_FLAG_VALUE', value, flag);
}

function joinCommand(token: string, managerAddr: string): string {
  return `    skep swarm join --token ${token} ${managerAddr}`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** --token, --token-file or --token-stdin: the last two keep the secret out of argv and shell history. */
async function tokenFrom(options: { token?: string; tokenFile?: string; tokenStdin?: boolean }): Promise<string> {
  const given = [options.token !== undefined, options.tokenFile !== undefined, options.tokenStdin === true].filter(Boolean).length;
  if (given !== 1) throw cliError('TOKEN_SOURCE');
  let token: string;
  if (options.token !== undefined) token = options.token.trim();
  else if (options.tokenFile !== undefined) token = (await readTokenFile(options.tokenFile)).trim();
  else token = (await readStdin()).trim();
  // swarmkit's CA server answers an empty token with this text (ca/server.go); say it before dialing.
  if (token === '') throw skepError('JOIN_TOKEN_REJECTED');
  return token;
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

async function readTokenFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw cliError('TOKEN_FILE_UNREADABLE', file, FILE_ERRORS[code] ?? 'it could not be read');
  }
}

/** Addresses that can't work are refused here, before the daemon starts anything (Docker's words). */
function checkAddresses(addresses: Partial<Record<AddressField, string>>): void {
  const problem = checkNodeAddresses(addresses, Object.keys(os.networkInterfaces()));
  if (problem) throw clientSide(problem);
}

export function swarmCommand(client: ClientFactory): Command {
  const swarm = new Command('swarm').description('Manage Swarm').usage('COMMAND');

  swarm
    .command('init')
    .usage('[OPTIONS]')
    .description('Initialize a swarm')
    .option('--listen-addr <addr>', 'Listen address (format: <ip|interface>[:port])', '0.0.0.0:2377')
    .option('--advertise-addr <addr>', 'Advertised address (format: <ip|interface>[:port])')
    .option('--force-new-cluster', 'Force create a new cluster from current state')
    .option('--autolock', 'Enable manager autolocking (requiring an unlock key to start a stopped manager)')
    .action(async (options: { listenAddr: string; advertiseAddr?: string; forceNewCluster?: boolean; autolock?: boolean }) => {
      checkAddresses({ listenAddr: options.listenAddr, ...(options.advertiseAddr !== undefined ? { advertiseAddr: options.advertiseAddr } : {}) });
      const result = await client().swarmInit({
        listenAddr: options.listenAddr,
        ...(options.advertiseAddr ? { advertiseAddr: options.advertiseAddr } : {}),
        ...(options.forceNewCluster ? { forceNewCluster: true } : {}),
        ...(options.autolock ? { autolock: true } : {}),
      });
      print(
        [
          `Swarm initialized: current node (${result.nodeId}) is now a manager.`,
          '',
          'To add a worker to this swarm, run the following command:',
          '',
          joinCommand(result.workerToken, result.managerAddr),
          '',
          "To add a manager to this swarm, run 'skep swarm join-token manager' and follow the instructions.",
          '',
        ].join('\n') + (result.unlockKey ? unlockKeyBlock(result.unlockKey) : ''),
      );
    });

  swarm
    .command('update')
    .usage('[OPTIONS]')
    .description('Update the swarm')
    // A Go bool flag, as Docker's: --autolock alone means true, --autolock=false turns it off.
    .option('--autolock [bool]', 'Change manager autolocking setting (true|false)')
    .action(async (options: { autolock?: string | true }, command: Command) => {
      // Docker's update without a flag shows its usage instead of updating nothing.
      if (options.autolock === undefined) return command.help();
      const autolock = options.autolock === true || parseBool(options.autolock, '--autolock');
      const api = client();
      const before = (await api.swarmUnlockKey(false)).key;
      await api.swarmUpdate({ autolock });
      print('Swarm updated.');
      if (autolock === true && before === null) {
        const { key } = await api.swarmUnlockKey(false);
        if (key) process.stdout.write(unlockKeyBlock(key));
      }
    });

  swarm
    .command('unlock')
    .usage('')
    .description('Unlock swarm')
    .action(async () => {
      const api = client();
      // As Docker's: ask for the key only when this node is a locked swarm member.
      const status = await api.getSwarmStatus();
      if (status.state === 'inactive') throw cliError('UNLOCK_NOT_IN_SWARM');
      if (status.state !== 'locked') throw cliError('UNLOCK_NOT_LOCKED');
      await api.swarmUnlock({ key: await readUnlockKey() });
    });

  swarm
    .command('unlock-key')
    .usage('[OPTIONS]')
    .description('Manage the unlock key')
    .option('--rotate', 'Rotate unlock key')
    .option('-q, --quiet', 'Only display token')
    .action(async (options: { rotate?: boolean; quiet?: boolean }) => {
      const api = client();
      if (options.rotate) {
        if ((await api.swarmUnlockKey(false)).key === null) throw cliError('UNLOCK_ROTATE_NO_AUTOLOCK');
        await api.swarmUnlockKey(true);
        if (!options.quiet) print('Successfully rotated manager unlock key.');
      }
      const { key } = await api.swarmUnlockKey(false);
      if (key === null) throw cliError('NO_UNLOCK_KEY');
      if (options.quiet) return print(key);
      process.stdout.write(unlockKeyBlock(key));
    });

  swarm
    .command('join')
    .usage('[OPTIONS] HOST:PORT')
    .description('Join a swarm as a node and/or manager')
    .argument('<host:port>')
    .option('--token <token>', 'Token for entry into the swarm')
    .option('--token-file <file>', 'Read the token from a file')
    .option('--token-stdin', 'Read the token from standard input')
    .option('--listen-addr <addr>', 'Listen address (format: <ip|interface>[:port])', '0.0.0.0:2377')
    .option('--advertise-addr <addr>', 'Advertised address (format: <ip|interface>[:port])')
    .action(async (remoteAddr: string, options: { token?: string; tokenFile?: string; tokenStdin?: boolean; listenAddr: string; advertiseAddr?: string }) => {
      checkAddresses({ remoteAddr, listenAddr: options.listenAddr, ...(options.advertiseAddr !== undefined ? { advertiseAddr: options.advertiseAddr } : {}) });
      const token = await tokenFrom(options);
      const result = await client().swarmJoin({
        token,
        remoteAddr,
        listenAddr: options.listenAddr,
        ...(options.advertiseAddr ? { advertiseAddr: options.advertiseAddr } : {}),
      });
      print(`This node joined a swarm as a ${result.role}.`);
    });

  swarm
    .command('leave')
    .usage('[OPTIONS]')
    .description('Leave the swarm')
    .option('-f, --force', 'Force this node to leave the swarm, ignoring warnings')
    .action(async (options: { force?: boolean }) => {
      const change = options.force === true ? await plannedManagerChange(client(), { kind: 'leave' }) : undefined;
      await client().swarmLeave(options.force === true);
      print('Node left the swarm.');
      process.stderr.write(managerChangeNote(change));
    });

  swarm
    .command('join-token')
    .usage('[OPTIONS] (worker|manager)')
    .description('Manage join tokens')
    .argument('<role>')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate join token')
    .action(async (role: string, options: { quiet?: boolean; rotate?: boolean }) => {
      if (role !== 'worker' && role !== 'manager') throw cliError('UNKNOWN_ROLE', role);
      const result = await client().swarmJoinToken(role as NodeRole, options.rotate === true);
      if (options.quiet) return print(result.token);
      const lines = options.rotate ? [`Successfully rotated ${role} join token.`, ''] : [];
      lines.push(`To add a ${role} to this swarm, run the following command:`, '', joinCommand(result.token, result.managerAddr), '');
      print(lines.join('\n'));
      if (role === 'manager') process.stderr.write(managerChangeNote(await plannedManagerChange(client(), { kind: 'join-manager' }), 'Each manager that joins changes the swarm\'s fault tolerance. '));
    });

  swarm
    .command('status')
    .usage('[OPTIONS]')
    .description('Display the Raft group and this node\'s part in it')
    .addOption(new Option('--format <format>', 'Format the output').choices(['json', 'table']).default('table'))
    .action(async (options: { format: string }) => {
      const status = await client().getSwarmStatus();
      // A node that can't do its part says so and fails, so scripts and monitoring notice (Docker's info says "Swarm: error").
      if (status.state === 'active' && status.failure) process.exitCode = 1;
      if (options.format === 'json') return print(JSON.stringify(status, null, 2));
      if (status.state === 'inactive') return print('Swarm: inactive');
      if (status.state === 'locked') {
        return print(['Swarm: locked', ` NodeID: ${status.nodeId}`, ` Is Manager: ${status.role === 'manager'}`, ` Error: ${skepError('SWARM_LOCKED').message}`].join('\n'));
      }
      const lines = [
        status.failure ? 'Swarm: error' : 'Swarm: active',
        ...(status.failure ? [` Error: ${status.failure.message}`] : []),
        ` NodeID: ${status.nodeId}`,
        ` Is Manager: ${status.role === 'manager'}`,
        ` Managers: ${status.managers} (${status.reachableManagers} reachable)`,
        ` Nodes: ${status.nodes} (${status.readyNodes} ready)`,
      ];
      if (status.raft) {
        lines.push(` Raft: term ${status.raft.term}, commit ${status.raft.commitIndex}, applied ${status.raft.appliedIndex}, leader ${status.raft.leaderId ?? 'none'}`);
        for (const member of status.raft.members) {
          lines.push(`  ${member.nodeId}  ${member.role.padEnd(9)}${member.reachable ? 'reachable  ' : 'unreachable'}  ${member.addr}${member.lag !== null ? `  lag ${member.lag}` : ''}`);
        }
      }
      print(lines.join('\n'));
    });

  return swarm;
}
