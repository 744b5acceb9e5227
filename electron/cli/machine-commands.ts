// `skep machine add|check|ls|rm`: adding machines over SSH. The daemon does the SSH work (the same
// API the window's wizard uses); this side gathers secrets without argv (stdin or a hidden prompt),
// asks about the host key and the plan on a terminal, and prints the progress the daemon streams.
import { readFile } from 'node:fs/promises';
import readline from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { SkepClient } from '../../shared/api.js';
import { skepError } from '../../shared/errors.js';
import {
  formatMachineAddress,
  parseMachineTarget,
  type MachineAuth,
  type MachineCheckResult,
  type MachineRequest,
  type MachineTarget,
  type ProvisionProgress,
} from '../../shared/provision.js';
import type { NodeRole } from '../../shared/types.js';
import type { ClientFactory } from './client-factory.js';
import { print, table } from './output.js';

interface SecretOptions {
  identity?: string;
  passwordStdin?: boolean;
  sudoPasswordStdin?: boolean;
}

interface AddOptions extends SecretOptions {
  role: NodeRole;
  acceptHostKey?: string;
  replaceHostKey?: string;
  yes?: boolean;
  installMissing?: boolean;
}

function target(text: string): MachineTarget {
  const parsed = parseMachineTarget(text);
  if (!parsed) throw new InvalidArgumentError('expected USER@HOST[:PORT]');
  return parsed;
}

async function stdinLines(): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split('\n').map((line) => line.replace(/\r$/, ''));
}

const interactive = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY);

function ask(question: string, hidden = false): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) {
      // Echo nothing of what is typed (the prompt itself is written before muting).
      (rl as unknown as { _writeToOutput: (text: string) => void })._writeToOutput = () => undefined;
      process.stderr.write(question);
    }
    rl.question(hidden ? '' : question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** Secrets from stdin: with both flags, the first line is the SSH password (or key passphrase), the second sudo's. */
async function secrets(options: SecretOptions): Promise<{ auth: MachineAuth; sudoPassword?: string }> {
  const lines = options.passwordStdin || options.sudoPasswordStdin ? await stdinLines() : [];
  const password = options.passwordStdin ? lines.shift() : undefined;
  const sudoPassword = options.sudoPasswordStdin ? lines.shift() : undefined;
  const auth: { -readonly [K in keyof MachineAuth]: MachineAuth[K] } = {};
  if (options.identity) {
    auth.privateKey = await readFile(options.identity, 'utf8');
    if (password !== undefined) auth.passphrase = password;
  } else if (password !== undefined) {
    auth.password = password;
  }
  if (!options.identity && password === undefined && process.env['SSH_AUTH_SOCK']) auth.agentSocket = process.env['SSH_AUTH_SOCK'];
  return { auth, ...(sudoPassword !== undefined ? { sudoPassword } : {}) };
}

function printCheck(result: MachineCheckResult): void {
  const { facts, plan } = result;
  print(
    [
      `Host key:  ${result.hostKey.keyType} ${result.hostKey.fingerprint} (${result.hostKey.status})`,
      `Machine:   ${facts.hostname} — ${facts.os.name || facts.os.id}, ${facts.architecture}, ${facts.cpus} CPUs, ${(facts.memoryBytes / 1024 ** 3).toFixed(1)} GiB memory, ${(facts.diskFreeBytes / 1024 ** 3).toFixed(1)} GiB free`,
      `Init:      ${facts.init}    User: ${facts.user} (sudo: ${facts.sudo})`,
      `Node.js:   ${facts.node.version || 'missing'}    Docker Engine: ${facts.docker.present ? facts.docker.version || 'present' : 'missing'}${facts.docker.snap ? ' (snap)' : ''}`,
      `Skep:      ${facts.skep.installedVersion || 'not installed'}${facts.skep.nodeId ? `, node ${facts.skep.nodeId}` : ''}`,
      '',
      plan.stop ? `Stop: ${plan.stop.message}` : plan.upToDate ? 'Plan: nothing to do — already a node of this swarm.' : 'Plan:',
      ...plan.steps.map((step, i) => `  ${i + 1}. ${step.title} — ${step.why}`),
      ...plan.notes.map((note) => `  Note: ${note}`),
    ].join('\n'),
  );
}

function printProgress(event: ProvisionProgress): void {
  if (event.log !== undefined) return;
  const mark = { pending: '·', running: '…', done: '✓', failed: '✗', skipped: '-' }[event.state];
  process.stderr.write(`${mark} [${event.phase}] ${event.message}\n`);
}

/** Asks about a host key the daemon doesn't know yet; scripts pass --accept-host-key instead. */
async function hostKeyConsent(api: SkepClient, request: MachineRequest): Promise<MachineRequest> {
  if (request.acceptHostKey || request.replaceHostKey) return request;
  const report = await api.machineHostKey(request.target);
  if (report.status !== 'new') return request;
  if (!interactive()) throw skepError('SSH_HOST_KEY_UNKNOWN', report.address, report.keyType, report.fingerprint);
  process.stderr.write(`The authenticity of host '${report.address}' can't be established.\n${report.keyType} key fingerprint is ${report.fingerprint}.\n`);
  const answer = await ask('Are you sure you want to continue connecting (yes/no)? ');
  if (answer.trim().toLowerCase() !== 'yes') throw new Error('Host key verification failed.');
  return { ...request, acceptHostKey: report.fingerprint };
}

function withProgress<T>(api: SkepClient, operationId: string, run: () => Promise<T>): Promise<T> {
  const unsubscribe = api.onEvent((event) => {
    if (event.type === 'provision.progress' && event.payload.operationId === operationId) printProgress(event.payload);
  });
  return run().finally(unsubscribe);
}

function operationId(): string {
  return `cli-${process.pid}-${Date.now()}`;
}

export function machineCommand(client: ClientFactory): Command {
  const machine = new Command('machine').description('Add machines to the swarm over SSH, and remove them');
  const secretOptions = (command: Command): Command =>
    command
      .option('-i, --identity <keyfile>', 'Private key file to log in with')
      .option('--password-stdin', 'Read the SSH password (or, with -i, the key\'s passphrase) from stdin')
      .option('--sudo-password-stdin', 'Read the sudo password from stdin (the line after the SSH password, when both)');

  secretOptions(
    machine
      .command('add')
      .description('Install Skep on a machine over SSH and join it to this swarm')
      .argument('<user@host[:port]>', 'the machine', target)
      .addOption(new Option('--role <role>', 'Role of the new node').choices(['worker', 'manager']).default('worker'))
      .option('--accept-host-key <fingerprint>', 'Trust this host key (SHA256:…) without asking')
      .option('--replace-host-key <fingerprint>', 'The machine was reinstalled: trust its new host key (SHA256:…)')
      .option('--install-missing', 'Install a missing Node.js or Docker Engine from the distribution\'s packages')
      .option('-y, --yes', 'Run the plan without asking'),
  ).action(async (machineTarget: MachineTarget, options: AddOptions) => {
    const api = client();
    const { auth, sudoPassword } = await secrets(options);
    let request: MachineRequest = {
      target: machineTarget,
      auth,
      role: options.role,
      ...(sudoPassword !== undefined ? { sudoPassword } : {}),
      ...(options.acceptHostKey ? { acceptHostKey: options.acceptHostKey } : {}),
      ...(options.replaceHostKey ? { replaceHostKey: options.replaceHostKey } : {}),
      ...(options.installMissing ? { installMissing: true } : {}),
    };
    request = await hostKeyConsent(api, request);
    if (!options.yes) {
      const check = await api.machineCheck(request);
      printCheck(check);
      if (check.plan.stop) throw skepError('PROVISION_UNSUPPORTED', check.plan.stop.message);
      if (!check.plan.upToDate) {
        if (!interactive()) throw new Error('give --yes to run this plan without a terminal to ask on');
        if ((await ask('Proceed? [y/N] ')).trim().toLowerCase() !== 'y') throw new Error('Cancelled; nothing was changed.');
      }
      if (check.facts.sudo === 'password' && request.sudoPassword === undefined && !check.plan.upToDate) {
        request = { ...request, sudoPassword: await ask(`[sudo] password for ${check.facts.user}@${machineTarget.host}: `, true) };
      }
    }
    const id = operationId();
    const result = await withProgress(api, id, () => api.machineAdd({ ...request, operationId: id }));
    const address = formatMachineAddress(machineTarget.host, machineTarget.port);
    print(result.changed ? `${address} joined the swarm as a ${result.role}: node ${result.nodeId} is Ready.` : `${address} is already node ${result.nodeId} of this swarm; nothing changed.`);
  });

  secretOptions(
    machine
      .command('check')
      .description('Show a machine\'s facts and the install plan, changing nothing')
      .argument('<user@host[:port]>', 'the machine', target)
      .addOption(new Option('--role <role>', 'Role of the new node').choices(['worker', 'manager']).default('worker'))
      .option('--accept-host-key <fingerprint>', 'Trust this host key (SHA256:…) without asking')
      .option('--replace-host-key <fingerprint>', 'The machine was reinstalled: trust its new host key (SHA256:…)')
      .addOption(new Option('--format <format>', 'Format the output').choices(['json', 'table']).default('table')),
  ).action(async (machineTarget: MachineTarget, options: AddOptions & { format: string }) => {
    const api = client();
    const { auth, sudoPassword } = await secrets(options);
    const request = await hostKeyConsent(api, {
      target: machineTarget,
      auth,
      role: options.role,
      ...(sudoPassword !== undefined ? { sudoPassword } : {}),
      ...(options.acceptHostKey ? { acceptHostKey: options.acceptHostKey } : {}),
      ...(options.replaceHostKey ? { replaceHostKey: options.replaceHostKey } : {}),
    });
    const result = await api.machineCheck(request);
    if (options.format === 'json') print(JSON.stringify(result, null, 2));
    else printCheck(result);
    if (result.plan.stop) process.exitCode = 1;
  });

  machine
    .command('ls')
    .alias('list')
    .description('List the machines added over SSH')
    .addOption(new Option('--format <format>', 'Format the output').choices(['json', 'table']).default('table'))
    .action(async (options: { format: string }) => {
      const api = client();
      const [machines, nodes] = await Promise.all([api.machineList(), api.nodeList().catch(() => [])]);
      if (options.format === 'json') return print(JSON.stringify(machines, null, 2));
      const words = { ready: 'Ready', down: 'Down', unknown: 'Unknown' } as const;
      print(
        table(
          ['HOST', 'USER', 'ROLE', 'NODE ID', 'STATUS', 'HOSTNAME', 'OS', 'ARCH'],
          machines.map((m) => {
            const node = nodes.find((n) => n.id === m.nodeId);
            return [formatMachineAddress(m.host, m.port), m.user, m.role, m.nodeId, node ? words[node.status.state] : 'Removed', m.hostname, m.os, m.architecture];
          }),
        ),
      );
    });

  secretOptions(
    machine
      .command('rm')
      .alias('remove')
      .description('Leave the swarm and remove Skep from a machine (Docker Engine and Node.js stay)')
      .argument('<host>', 'the machine, as "skep machine ls" shows it (HOST, HOST:PORT or USER@HOST[:PORT])')
      .option('--accept-host-key <fingerprint>', 'Trust this host key (SHA256:…) without asking'),
  ).action(async (host: string, options: AddOptions) => {
    const api = client();
    const machines = await api.machineList();
    const given = parseMachineTarget(host.includes('@') ? host : `root@${host}`);
    const record = machines.find((m) => given && m.host === given.host && (host.includes(':') ? m.port === given.port : true));
    if (!record && (!given || !host.includes('@'))) throw skepError('MACHINE_NOT_FOUND', host);
    const machineTarget: MachineTarget = record && !host.includes('@') ? { user: record.user, host: record.host, port: record.port } : (given as MachineTarget);
    const { auth, sudoPassword } = await secrets(options);
    const request = await hostKeyConsent(api, {
      target: machineTarget,
      auth,
      ...(sudoPassword !== undefined ? { sudoPassword } : {}),
      ...(options.acceptHostKey ? { acceptHostKey: options.acceptHostKey } : {}),
    });
    const id = operationId();
    const result = await withProgress(api, id, () => api.machineRemove({ ...request, operationId: id }));
    print([`Removed from ${formatMachineAddress(machineTarget.host, machineTarget.port)}:`, ...result.removed.map((r) => `  - ${r}`), 'Left in place:', ...result.left.map((l) => `  - ${l}`)].join('\n'));
  });

  return machine;
}
