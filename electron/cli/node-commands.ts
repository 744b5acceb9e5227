// `skep node …`: ls, inspect, promote, demote, rm, update — Docker's columns and messages.
import { Command, Option } from 'commander';
import type { NodeAvailability, SwarmNode } from '../../shared/types.js';
import type { ClientFactory } from './client-factory.js';
import { print, table } from './output.js';
import { formatTaskTable } from './service-commands.js';

const STATE_WORDS = { ready: 'Ready', down: 'Down', unknown: 'Unknown' } as const;
const AVAILABILITY_WORDS = { active: 'Active', pause: 'Pause', drain: 'Drain' } as const;

function managerStatus(node: SwarmNode): string {
  if (!node.managerStatus) return '';
  if (node.managerStatus.leader) return 'Leader';
  return node.managerStatus.reachability === 'reachable' ? 'Reachable' : 'Unreachable';
}

export function formatNodeTable(nodes: readonly SwarmNode[], selfId: string | undefined): string {
  return table(
    ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION', 'ADDRESS'],
    nodes.map((node) => [
      node.id + (node.id === selfId ? ' *' : ''),
      node.description.hostname,
      STATE_WORDS[node.status.state],
      AVAILABILITY_WORDS[node.spec.availability],
      managerStatus(node),
      node.description.engineVersion,
      node.status.addr,
    ]),
  );
}

function formatPretty(node: SwarmNode): string {
  const labels = Object.entries(node.spec.labels);
  return [
    `ID:\t\t\t${node.id}`,
    ...(labels.length ? ['Labels:', ...labels.map(([k, v]) => ` - ${k}=${v}`)] : []),
    `Hostname:\t\t${node.description.hostname}`,
    `Joined at:\t\t${node.createdAt}`,
    'Status:',
    ` State:\t\t\t${STATE_WORDS[node.status.state]}`,
    ` Availability:\t\t${AVAILABILITY_WORDS[node.spec.availability]}`,
    ` Address:\t\t${node.status.addr}`,
    ...(node.managerStatus
      ? ['Manager Status:', ` Address:\t\t${node.managerStatus.addr}`, ` Raft Status:\t\t${node.managerStatus.reachability === 'reachable' ? 'Reachable' : 'Unreachable'}`, ` Leader:\t\t${node.managerStatus.leader ? 'Yes' : 'No'}`]
      : []),
    'Platform:',
    ` Operating System:\t${node.description.platform.os}`,
    ` Architecture:\t\t${node.description.platform.architecture}`,
    'Resources:',
    ` CPUs:\t\t\t${node.description.resources.cpus}`,
    ` Memory:\t\t${(node.description.resources.memoryBytes / 1024 ** 3).toFixed(2)}GiB`,
    `Engine Version:\t\t${node.description.engineVersion}`,
    ...(node.certificate ? [`TLS Info:`, ` Certificate expires:\t${node.certificate.notAfter}`] : []),
  ].join('\n');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function nodeCommand(client: ClientFactory): Command {
  const node = new Command('node').description('Manage Swarm nodes');

  node
    .command('ls')
    .alias('list')
    .description('List nodes in the swarm')
    .option('-q, --quiet', 'Only display IDs')
    .addOption(new Option('--format <format>', 'Format the output').choices(['json', 'table']).default('table'))
    .action(async (options: { quiet?: boolean; format: string }) => {
      const api = client();
      const [nodes, status] = await Promise.all([api.nodeList(), api.getSwarmStatus()]);
      if (options.quiet) return print(nodes.map((n) => n.id).join('\n'));
      if (options.format === 'json') return print(JSON.stringify(nodes, null, 2));
      print(formatNodeTable(nodes, status.state === 'active' ? status.nodeId : undefined));
    });

  node
    .command('inspect')
    .description('Display detailed information on one or more nodes')
    .argument('<node...>', 'node IDs, ID prefixes or hostnames ("self" is this node)')
    .option('--pretty', 'Print the information in a human friendly format')
    .addOption(new Option('--format <format>', 'Format the output').choices(['json']).default('json'))
    .action(async (refs: string[], options: { pretty?: boolean }) => {
      const api = client();
      const nodes: SwarmNode[] = [];
      for (const ref of refs) nodes.push(await api.nodeInspect(ref));
      print(options.pretty ? nodes.map(formatPretty).join('\n\n') : JSON.stringify(nodes, null, 2));
    });

  node
    .command('promote')
    .description('Promote one or more nodes to manager in the swarm')
    .argument('<node...>')
    .action(async (refs: string[]) => {
      for (const ref of refs) {
        await client().nodePromote(ref);
        print(`Node ${ref} promoted to a manager in the swarm.`);
      }
    });

  node
    .command('demote')
    .description('Demote one or more nodes from manager in the swarm')
    .argument('<node...>')
    .action(async (refs: string[]) => {
      for (const ref of refs) {
        await client().nodeDemote(ref);
        print(`Manager ${ref} demoted in the swarm.`);
      }
    });

  node
    .command('rm')
    .alias('remove')
    .description('Remove one or more nodes from the swarm')
    .argument('<node...>')
    .option('-f, --force', 'Force remove a node from the swarm')
    .action(async (refs: string[], options: { force?: boolean }) => {
      for (const ref of refs) {
        await client().nodeRemove(ref, options.force === true);
        print(ref);
      }
    });

  node
    .command('ps')
    .description('List tasks running on one or more nodes, defaults to current node')
    .argument('[node...]', 'node IDs, ID prefixes or hostnames ("self" is this node)')
    .option('-q, --quiet', 'Only display task IDs')
    .option('--no-trunc', 'Do not truncate output')
    .action(async (refs: string[], options: { quiet?: boolean; trunc: boolean }) => {
      const api = client();
      const nodes = await api.nodeList();
      const status = await api.getSwarmStatus();
      const self = status.state === 'active' ? status.nodeId : '';
      const wanted = (refs.length > 0 ? refs : ['self']).map((ref) => (ref === 'self' ? self : ref));
      const tasks = await api.taskList({ nodes: wanted });
      if (options.quiet) return print(tasks.map((t) => t.id).join('\n'));
      print(formatTaskTable(tasks, new Map(nodes.map((n) => [n.id, n.description.hostname])), { noTrunc: !options.trunc }));
    });

  node
    .command('update')
    .description('Update a node')
    .argument('<node>')
    .addOption(new Option('--availability <state>', 'Availability of the node').choices(['active', 'pause', 'drain']))
    .option('--label-add <key=value>', 'Add or update a node label (key=value)', collect, [])
    .option('--label-rm <key>', 'Remove a node label if exists', collect, [])
    .action(async (ref: string, options: { availability?: NodeAvailability; labelAdd: string[]; labelRm: string[] }) => {
      const labelAdd: Record<string, string> = {};
      for (const pair of options.labelAdd) {
        const [key, ...rest] = pair.split('=');
        if (!key) throw new Error(`invalid label "${pair}": expected key=value`);
        labelAdd[key] = rest.join('=');
      }
      await client().nodeUpdate(ref, {
        ...(options.availability ? { availability: options.availability } : {}),
        ...(options.labelAdd.length ? { labelAdd } : {}),
        ...(options.labelRm.length ? { labelRm: options.labelRm } : {}),
      });
      print(ref);
    });

  return node;
}
