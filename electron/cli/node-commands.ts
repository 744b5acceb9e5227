// `skep node …`: ls, inspect, promote, demote, rm, update — Docker's columns, formats and messages.
import { Command, Option } from 'commander';
import { MAX_NODE_LABEL_BYTES, nodeLabelBytes } from '../../shared/api-schemas.js';
import { skepError } from '../../shared/errors.js';
import type { NodeAvailability, SwarmNode } from '../../shared/types.js';
import type { ClientFactory } from './client-factory.js';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, printInspect, printListing } from './format/command-output.js';
import { dockerNode, NODE_LISTING, NODE_PRETTY_TEMPLATE, nodePrettyContext, nodeRow } from './format/docker-node.js';
import { PRETTY_FORMAT_KEY } from './format/formatter.js';
import { cliError, print } from './output.js';
import { managerChangeNote, plannedManagerChange } from './quorum-note.js';
import { collectFilter as collectTaskFilter, filteredTasks, nodeNames, printTasks } from './service-commands.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** opts.FilterOpt: `-f name=value`, names case-insensitive, both sides trimmed. */
function collectFilter(value: string, previous: [string, string][]): [string, string][] {
  if (value === '') return previous;
  const at = value.indexOf('=');
  if (at < 0) throw cliError('FILTER_FORMAT', value);
  return [...previous, [value.slice(0, at).trim().toLowerCase(), value.slice(at + 1).trim()]];
}

/** key=value pairs as Docker's ConvertKVStringsToMap reads them (a missing "=" is an empty value). */
function labelsOf(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    if (key.trim() === '') throw cliError('LABEL_EMPTY_KEY', pair);
    labels[key] = at < 0 ? '' : pair.slice(at + 1);
  }
  return labels;
}

function matchesLabels(labels: Readonly<Record<string, string>>, wanted: readonly string[]): boolean {
  // swarmkit's filterMatchLabels: every wanted key present; a value, when given, equal.
  return Object.entries(labelsOf(wanted)).every(([key, value]) => Object.hasOwn(labels, key) && (value === '' || labels[key] === value));
}

const ACCEPTED_FILTERS = new Set(['name', 'id', 'label', 'role', 'membership', 'node.label']);

/**
 * `node ls -f`: the filters Docker's daemon applies (moby daemon/cluster/filters.go, swarmkit
 * controlapi ListNodes): name and id by prefix, role, membership, node.label on the node's
 * labels, label on the engine's labels (as the node's agent reports them).
 */
export function filterNodes(nodes: readonly SwarmNode[], filters: readonly (readonly [string, string])[]): SwarmNode[] {
  const by = new Map<string, string[]>();
  for (const [name, value] of filters) {
    // Docker's daemon applies the filters, so its refusals read as the daemon's.
    if (!ACCEPTED_FILTERS.has(name)) throw skepError('INVALID_FILTER', name);
    by.set(name, [...(by.get(name) ?? []), value]);
  }
  for (const role of by.get('role') ?? []) if (role !== '' && !['manager', 'worker'].includes(role.toLowerCase())) throw skepError('INVALID_ROLE_FILTER', role);
  for (const m of by.get('membership') ?? []) if (m !== '' && !['accepted', 'pending'].includes(m.toLowerCase())) throw skepError('INVALID_MEMBERSHIP_FILTER', m);
  const any = (name: string, test: (value: string) => boolean): boolean => {
    const values = by.get(name);
    return values === undefined || values.some(test);
  };
  return nodes.filter(
    (node) =>
      any('name', (prefix) => node.description.hostname.startsWith(prefix)) &&
      any('id', (prefix) => node.id.startsWith(prefix)) &&
      any('role', (role) => role === '' || role.toLowerCase() === node.role) &&
      // Every node in Skep's store was accepted by a join token.
      any('membership', (m) => m === '' || m.toLowerCase() === 'accepted') &&
      (!by.has('node.label') || matchesLabels(node.spec.labels, by.get('node.label') ?? [])) &&
      (!by.has('label') || matchesLabels(node.description.engineLabels ?? {}, by.get('label') ?? [])),
  );
}

/** docker node ls sorts by hostname in natural order (fvbommel/sortorder). */
function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function nodeCommand(client: ClientFactory): Command {
  const node = new Command('node').description('Manage Swarm nodes').usage('COMMAND');

  node
    .command('ls')
    .alias('list')
    .usage('[OPTIONS]')
    .description('List nodes in the swarm')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collectFilter, [])
    .option('--format <string>', FORMAT_HELP)
    .option('-q, --quiet', 'Only display IDs')
    .action(async (options: { quiet?: boolean; format?: string; filter: [string, string][] }) => {
      const api = client();
      const all = await api.nodeList();
      const nodes = filterNodes(all, options.filter).sort((a, b) => naturalCompare(a.description.hostname, b.description.hostname));
      const status = nodes.length > 0 && !options.quiet ? await api.getSwarmStatus() : undefined;
      const selfId = status?.state === 'active' ? status.nodeId : undefined;
      printListing(NODE_LISTING, options.format, options.quiet === true, nodes.map((n) => nodeRow(n, selfId)));
    });

  node
    .command('inspect')
    .usage('[OPTIONS] self|NODE [NODE...]')
    .description('Display detailed information on one or more nodes')
    .argument('<node...>')
    .option('-f, --format <string>', INSPECT_FORMAT_HELP)
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], options: { pretty?: boolean; format?: string }) => {
      const format = options.pretty ? PRETTY_FORMAT_KEY : (options.format ?? '');
      if (format.startsWith(PRETTY_FORMAT_KEY) && format !== PRETTY_FORMAT_KEY) throw cliError('PRETTY_WITH_FORMAT');
      const api = client();
      await printInspect(
        refs,
        (ref) => api.nodeInspect(ref),
        format === PRETTY_FORMAT_KEY ? { template: NODE_PRETTY_TEMPLATE, context: nodePrettyContext } : { format, shape: dockerNode },
      );
    });

  node
    .command('promote')
    .usage('NODE [NODE...]')
    .description('Promote one or more nodes to manager in the swarm')
    .argument('<node...>')
    .action(async (refs: string[]) => {
      for (const ref of refs) {
        const change = await plannedManagerChange(client(), { kind: 'promote', ref });
        await client().nodePromote(ref);
        print(`Node ${ref} promoted to a manager in the swarm.`);
        process.stderr.write(managerChangeNote(change));
      }
    });

  node
    .command('demote')
    .usage('NODE [NODE...]')
    .description('Demote one or more nodes from manager in the swarm')
    .argument('<node...>')
    .action(async (refs: string[]) => {
      for (const ref of refs) {
        const change = await plannedManagerChange(client(), { kind: 'demote', ref });
        await client().nodeDemote(ref);
        print(`Manager ${ref} demoted in the swarm.`);
        process.stderr.write(managerChangeNote(change));
      }
    });

  node
    .command('rm')
    .alias('remove')
    .usage('[OPTIONS] NODE [NODE...]')
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
    .usage('[OPTIONS] [NODE...]')
    .description('List tasks running on one or more nodes, defaults to current node')
    .argument('[node...]', 'node IDs, ID prefixes or hostnames ("self" is this node)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collectTaskFilter, [])
    .option('--format <string>', 'Pretty-print tasks using a Go template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (refs: string[], options: { quiet?: boolean; trunc: boolean; resolve: boolean; format?: string; filter: [string, string][] }) => {
      const api = client();
      // Each node must exist (Docker's CLI inspects every one first); `self` is this node.
      const nodes = await Promise.all((refs.length > 0 ? refs : ['self']).map((ref) => api.nodeInspect(ref)));
      const tasks = await filteredTasks(api, { nodes: nodes.map((n) => n.id) }, options.filter);
      printTasks(tasks, options.resolve ? await nodeNames(api) : new Map(), {
        ...(options.quiet ? { quiet: true } : {}),
        ...(options.format !== undefined ? { format: options.format } : {}),
        trunc: options.trunc,
      });
    });

  node
    .command('update')
    .usage('[OPTIONS] NODE')
    .description('Update a node')
    .argument('<node>')
    .addOption(new Option('--availability <string>', 'Availability of the node ("active", "pause", "drain")').choices(['active', 'pause', 'drain']))
    .option('--label-add <list>', 'Add or update a node label ("key=value")', collect, [])
    .option('--label-rm <list>', 'Remove a node label if exists', collect, [])
    .action(async (ref: string, options: { availability?: NodeAvailability; labelAdd: string[]; labelRm: string[] }) => {
      const labelAdd = labelsOf(options.labelAdd);
      // The daemon checks the node's labels as a whole; labels past the bound by themselves stop here.
      const addedBytes = nodeLabelBytes(labelAdd);
      if (addedBytes > MAX_NODE_LABEL_BYTES) throw cliError('LABELS_TOO_LARGE', ref, addedBytes, MAX_NODE_LABEL_BYTES);
      await client().nodeUpdate(ref, {
        ...(options.availability ? { availability: options.availability } : {}),
        ...(options.labelAdd.length ? { labelAdd } : {}),
        ...(options.labelRm.length ? { labelRm: options.labelRm } : {}),
      });
      print(ref);
    });

  return node;
}
