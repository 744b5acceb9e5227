// Every action a person can take, run the same way: decide the warning from the current status,
// ask, call the node, map a refusal to the same dialog, and refresh the node list afterwards.
import { errorField } from '../../../shared/addresses.js';
import { SkepError } from '../../../shared/errors.js';
import type { InitRequest, JoinRequest, NodeAvailability, SwarmNode } from '../../../shared/types.js';
import { cluster } from '../stores/cluster.svelte.js';
import { dialogs } from '../stores/dialogs.svelte.js';
import { feedback } from '../stores/feedback.svelte.js';
import { nodes } from '../stores/nodes.svelte.js';
import { system } from '../stores/system.svelte.js';
import { api } from './api.js';
import { errorText } from './errors.js';
import { planDemoteConfirm, planForError, planLeave, planPromote, planQuorumLost, planRemove, subjectOf, type DialogPlan, type Proceed, type Subject } from './plans.js';

function self(): Subject {
  const status = cluster.active;
  return { id: status?.nodeId ?? '', hostname: system.info?.hostname ?? '' };
}

/** Where a form's errors go: a fixed field, or the field the error names (details.field). */
interface FormPlace {
  readonly form: string;
  readonly field?: string;
}

/** A join's refusals about its token, shown at the token field. */
const TOKEN_ERRORS: ReadonlySet<string> = new Set(['INVALID_JOIN_TOKEN', 'JOIN_TOKEN_REJECTED', 'CA_DIGEST_MISMATCH']);

function fieldOf(error: unknown, place: FormPlace | undefined): string | undefined {
  if (!place) return undefined;
  if (place.field) return place.field;
  if (!(error instanceof SkepError)) return undefined;
  return errorField(error) ?? (place.form === 'join' && TOKEN_ERRORS.has(error.code) ? 'token' : undefined);
}

/** Runs `call`; on a refusal that has a dialog, shows it (and carries out its confirm). */
async function run(busyText: string, doneText: string, call: () => Promise<unknown>, node?: SwarmNode, place?: FormPlace): Promise<boolean> {
  feedback.busy = busyText;
  feedback.clear();
  try {
    await call();
    feedback.done(doneText);
    return true;
  } catch (error) {
    const plan = error instanceof SkepError
      ? planForError(error, { status: cluster.active, nodes: nodes.list ?? [], self: self(), ...(node ? { node } : {}) })
      : undefined;
    const field = fieldOf(error, place);
    if (plan) {
      feedback.busy = undefined;
      await ask(plan);
    } else if (place && field) {
      feedback.errorAt({ form: place.form, field, text: errorText(error) });
    } else {
      feedback.error(errorText(error));
    }
    return false;
  } finally {
    feedback.busy = undefined;
    void cluster.load();
    if (cluster.isManager) void nodes.load();
  }
}

/** Shows `plan` and, if confirmed, does what its confirm button says. */
export async function ask(plan: DialogPlan): Promise<void> {
  const confirmed = await dialogs.ask(plan);
  if (confirmed) await carryOut(plan.proceed);
}

async function carryOut(proceed: Proceed): Promise<void> {
  switch (proceed.kind) {
    case 'leave':
      await run('Leaving the swarm…', 'This node left the swarm.', () => api.swarmLeave(proceed.force));
      return;
    case 'remove': {
      const node = nodes.byId(proceed.nodeId);
      await run('Removing the node…', 'The node was removed from the swarm.', () => api.nodeRemove(proceed.nodeId, proceed.force), node);
      return;
    }
    case 'demote-then-remove': {
      const node = nodes.byId(proceed.nodeId);
      const demoted = await run('Demoting the node…', 'The node was demoted.', () => api.nodeDemote(proceed.nodeId), node);
      if (!demoted) return;
      await run('Removing the node…', 'The node was demoted and removed from the swarm.', () => removeOnceDemoted(proceed.nodeId), node);
      return;
    }
    case 'promote': {
      const node = nodes.byId(proceed.nodeId);
      const name = node?.description.hostname || proceed.nodeId;
      await run(`Promoting ${name}…`, `${name} is now a manager.`, () => api.nodePromote(proceed.nodeId), node);
      return;
    }
    case 'demote': {
      const node = nodes.byId(proceed.nodeId);
      const name = node?.description.hostname || proceed.nodeId;
      await run(`Demoting ${name}…`, `${name} is now a worker.`, () => api.nodeDemote(proceed.nodeId), node);
      return;
    }
    case 'force-new-cluster':
      await run('Rebuilding the swarm from this manager…', 'The swarm was rebuilt with this node as its only manager.', () => api.swarmInit({ forceNewCluster: true }));
      return;
    case 'none':
      return;
  }
}

/**
 * A demoted manager stays in Raft until it has handed over; the node refuses removal until then
 * with REMOVE_MANAGER, so retry that one refusal for a while instead of showing it.
 */
async function removeOnceDemoted(nodeId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await api.nodeRemove(nodeId, true);
      return;
    } catch (error) {
      if (!(error instanceof SkepError && error.code === 'REMOVE_MANAGER') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export async function leaveSwarm(): Promise<void> {
  const status = cluster.active;
  if (!status) return;
  await ask(planLeave(status, self()));
}

// Promote and demote change the manager count: each asks first, showing fault tolerance before → after.
export async function promoteNode(node: SwarmNode): Promise<void> {
  const status = cluster.active;
  if (!status) return;
  await ask(planPromote(status, node));
}

export async function demoteNode(node: SwarmNode): Promise<void> {
  const status = cluster.active;
  if (!status) return;
  await nodes.load();
  await ask(planDemoteConfirm(status, nodes.list ?? [], subjectOf(node)));
}

export async function removeNode(node: SwarmNode): Promise<void> {
  const status = cluster.active;
  if (!status) return;
  await nodes.load();
  await ask(planRemove(status, nodes.list ?? [], nodes.byId(node.id) ?? node));
}

export async function setAvailability(node: SwarmNode, availability: NodeAvailability): Promise<void> {
  await run(`Setting ${node.description.hostname} to ${availability}…`, `${node.description.hostname} is now ${availability}.`, () => api.nodeUpdate(node.id, { availability }), node);
}

export async function addLabel(node: SwarmNode, key: string, value: string): Promise<boolean> {
  return run('Adding the label…', `Label ${key} added.`, () => api.nodeUpdate(node.id, { labelAdd: { [key]: value } }), node, { form: `label-${node.id}`, field: 'labelKey' });
}

export async function removeLabel(node: SwarmNode, key: string): Promise<void> {
  await run('Removing the label…', `Label ${key} removed.`, () => api.nodeUpdate(node.id, { labelRm: [key] }), node);
}

export async function initSwarm(request: InitRequest): Promise<boolean> {
  return run('Starting a swarm…', 'The swarm is started; this node is its first manager.', () => api.swarmInit(request), undefined, { form: 'init' });
}

export async function joinSwarm(request: JoinRequest): Promise<boolean> {
  return run('Joining the swarm…', 'This node joined the swarm.', () => api.swarmJoin(request), undefined, { form: 'join' });
}

export async function recoverQuorum(): Promise<void> {
  const status = cluster.active;
  if (!status) return;
  await ask(planQuorumLost(status, self()));
}
