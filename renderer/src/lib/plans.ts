// "Quorum math before you act": for each risky action, what dialog (if any) to show, decided from
// the status the node last pushed, before anything is sent. The node refuses the same cases with
// the same catalog codes; planForError maps those refusals to the same dialogs, so a stale status
// never lets a warning slip through. Pure: tested without a DOM.
import { skepError, type SkepError } from '../../../shared/errors.js';
import { isLastManager, managerCountChange, quorumSize, removalLosesQuorum, type ManagerCountChange, type ManagerCountStep } from '../../../shared/quorum.js';
import type { SwarmNode, SwarmStatus } from '../../../shared/types.js';

export type ActiveStatus = Extract<SwarmStatus, { state: 'active' }>;

/** What confirming a dialog does. */
export type Proceed =
  | { readonly kind: 'leave'; readonly force: boolean }
  | { readonly kind: 'remove'; readonly nodeId: string; readonly force: boolean }
  | { readonly kind: 'demote-then-remove'; readonly nodeId: string }
  | { readonly kind: 'promote'; readonly nodeId: string }
  | { readonly kind: 'demote'; readonly nodeId: string }
  | { readonly kind: 'force-new-cluster' }
  | { readonly kind: 'none' };

export type DialogKind =
  | 'leave'
  | 'leave-last-manager'
  | 'leave-loses-quorum'
  | 'promote'
  | 'demote'
  | 'demote-last-manager'
  | 'demote-loses-quorum'
  | 'remove'
  | 'remove-not-down'
  | 'remove-manager'
  | 'remove-last-manager'
  | 'quorum-lost'
  | 'swarm-exists';

export interface DialogPlan {
  readonly kind: DialogKind;
  readonly title: string;
  /** The catalog's sentence, verbatim, when this dialog is a warning. */
  readonly message?: string;
  /** The quorum math and the consequences, one sentence each. */
  readonly facts: readonly string[];
  readonly confirm?: {
    readonly label: string;
    readonly destructive: boolean;
    /** When set, confirm stays disabled until one of these names is typed. */
    readonly typeToConfirm?: { readonly names: readonly string[]; readonly label: string };
  };
  readonly cancelLabel: string;
  readonly proceed: Proceed;
}

export interface Subject {
  readonly id: string;
  readonly hostname: string;
}

export function subjectOf(node: SwarmNode): Subject {
  return { id: node.id, hostname: node.description.hostname };
}

function typed(subject: Subject): { names: readonly string[]; label: string } {
  const names = subject.hostname === '' ? [subject.id] : [subject.hostname, subject.id];
  return { names, label: subject.hostname === '' ? `Type the node ID ${subject.id} to confirm` : `Type ${subject.hostname} or the node ID to confirm` };
}

function nameOf(subject: Subject): string {
  return subject.hostname === '' ? subject.id : `${subject.hostname} (${subject.id.slice(0, 12)})`;
}

const WHAT_STOPS = 'Without a quorum nothing in the swarm can change: no node can join, be promoted, demoted or removed, and no service can be created or updated. Containers already running keep running.';

/** "Without bravo: 1 of 2 managers reachable — not enough for a quorum of 2." */
function withoutFact(name: string, change: ManagerCountChange): string {
  const { managers, reachable } = change.after;
  if (managers === 0) return `Without ${name}: no manager is left.`;
  return `Without ${name}: ${reachable} of ${managers} managers reachable — ${change.keepsQuorum ? 'enough' : 'not enough'} for a quorum of ${quorumSize(managers)}.`;
}

/** "2 of 3 managers reachable now; a quorum is 2." */
function nowFact(status: ActiveStatus): string {
  return `${status.reachableManagers} of ${status.managers} managers are reachable now; a quorum is ${quorumSize(status.managers)}.`;
}

/** The manager count before → after one manager comes or goes (shared/quorum.ts counts for every dialog). */
export function changeOf(status: ActiveStatus, step: ManagerCountStep): ManagerCountChange {
  return managerCountChange({ managers: status.managers, reachable: status.reachableManagers }, step);
}

/** "Fault tolerance: 3 managers, can lose 1 → 2 managers, can lose none.", then its warnings. */
function toleranceFacts(change: ManagerCountChange): string[] {
  return [`Fault tolerance: ${change.sentence}.`, ...change.warnings];
}

/** A reachable voter goes away when `node` stops being a manager; a wanted manager not yet a voter changes nothing. */
function removalStep(status: ActiveStatus, nodeId: string): ManagerCountStep | undefined {
  const member = status.raft?.members.find((m) => m.nodeId === nodeId && m.role !== 'learner');
  if (member) return { kind: 'remove', reachable: member.reachable };
  // Without a Raft view (a follower's fallback), count the node as a reachable manager.
  return status.raft ? undefined : { kind: 'remove', reachable: true };
}

/** The fault-tolerance facts of `nodeId` ceasing to be a manager (none when it isn't a voter). */
function removalFacts(status: ActiveStatus, nodeId: string): string[] {
  const step = removalStep(status, nodeId);
  return step ? toleranceFacts(changeOf(status, step)) : [];
}

// ---- leave ----

export function planLeave(status: ActiveStatus, self: Subject, message?: { code: SkepError['code']; text: string }): DialogPlan {
  const reachable = status.reachableManagers;
  const unreachable = status.managers - reachable;
  if (status.role === 'manager' && (message?.code === 'LEAVE_LAST_MANAGER' || (!message && isLastManager(reachable, unreachable)))) {
    return {
      kind: 'leave-last-manager',
      title: 'Leave as the last manager?',
      message: message?.text ?? skepError('LEAVE_LAST_MANAGER').message,
      facts: [
        ...toleranceFacts(changeOf(status, { kind: 'remove', reachable: true })),
        'This node is the only manager. Leaving with force erases all of the swarm\'s state: its nodes, services, join tokens and certificate authority. Workers are left without a swarm.',
        'To keep the swarm instead, promote another node first, then leave.',
      ],
      confirm: { label: 'Erase the swarm and leave', destructive: true, typeToConfirm: typed(self) },
      cancelLabel: 'Cancel',
      proceed: { kind: 'leave', force: true },
    };
  }
  if (status.role === 'manager' && (message?.code === 'LEAVE_LOSES_QUORUM' || (!message && removalLosesQuorum(reachable, unreachable)))) {
    const change = changeOf(status, { kind: 'remove', reachable: true });
    return {
      kind: 'leave-loses-quorum',
      title: 'Leaving loses the quorum',
      message: message?.text ?? skepError('LEAVE_LOSES_QUORUM', Math.max(0, reachable - 1), status.managers).message,
      facts: [
        nowFact(status),
        withoutFact('this node', change),
        ...toleranceFacts(change),
        WHAT_STOPS,
      ],
      confirm: { label: 'Leave anyway', destructive: true, typeToConfirm: typed(self) },
      cancelLabel: 'Cancel',
      proceed: { kind: 'leave', force: true },
    };
  }
  return {
    kind: 'leave',
    title: 'Leave the swarm?',
    ...(message?.code === 'LEAVE_MANAGER' ? { message: message.text } : {}),
    facts: [
      ...(status.role === 'manager'
        ? [`This manager leaves the Raft group first; ${reachable - 1} of ${status.managers - 1} managers stay reachable.`, ...toleranceFacts(changeOf(status, { kind: 'remove', reachable: true }))]
        : ['This node stops taking tasks from the swarm.']),
      'It forgets the swarm\'s certificates; to come back it needs a join token.',
    ],
    confirm: { label: 'Leave', destructive: true },
    cancelLabel: 'Cancel',
    // The node refuses a manager's leave without force (LEAVE_MANAGER, as Docker does); this
    // dialog is the confirmation that force stands for.
    proceed: { kind: 'leave', force: status.role === 'manager' },
  };
}

// ---- demote ----

/** The refusal dialog for demoting `node`, or undefined when the demotion may go ahead. */
export function planDemote(status: ActiveStatus, nodes: readonly SwarmNode[], node: Subject, refusal?: { code: SkepError['code']; text: string }): DialogPlan | undefined {
  const managersWanted = nodes.filter((n) => n.spec.role === 'manager').length;
  if (refusal?.code === 'DEMOTE_LAST_MANAGER' || (!refusal && managersWanted <= 1)) {
    return {
      kind: 'demote-last-manager',
      title: `Can't demote ${nameOf(node)}`,
      message: refusal?.text ?? skepError('DEMOTE_LAST_MANAGER').message,
      facts: [
        'A swarm keeps its state on its managers: with none left, nobody could change it or let a node in.',
        'Promote another node to manager first; then this one can be demoted.',
      ],
      cancelLabel: 'Close',
      proceed: { kind: 'none' },
    };
  }
  const step = removalStep(status, node.id);
  const change = step ? changeOf(status, step) : undefined;
  if (refusal?.code === 'DEMOTE_LOSES_QUORUM' || (!refusal && change !== undefined && !change.keepsQuorum)) {
    const shown = change ?? changeOf(status, { kind: 'remove', reachable: true });
    return {
      kind: 'demote-loses-quorum',
      title: `Can't demote ${nameOf(node)}`,
      message: refusal?.text ?? skepError('DEMOTE_LOSES_QUORUM').message,
      facts: [
        nowFact(status),
        withoutFact(nameOf(node), shown),
        `Fault tolerance: ${shown.sentence}.`,
        'Bring the unreachable managers back (or remove them once they are demoted), then try again.',
      ],
      cancelLabel: 'Close',
      proceed: { kind: 'none' },
    };
  }
  return undefined;
}

/** Demoting `node`: the refusal, or a confirmation that shows fault tolerance before → after. */
export function planDemoteConfirm(status: ActiveStatus, nodes: readonly SwarmNode[], node: Subject): DialogPlan {
  const refusal = planDemote(status, nodes, node);
  if (refusal) return refusal;
  const step = removalStep(status, node.id);
  return {
    kind: 'demote',
    title: `Demote ${nameOf(node)}?`,
    facts: [
      ...(step ? toleranceFacts(changeOf(status, step)) : ['It is not yet a voting manager, so the managers\' fault tolerance stays as it is.']),
      'It leaves the Raft group and keeps running its tasks as a worker.',
    ],
    confirm: { label: 'Demote', destructive: false },
    cancelLabel: 'Cancel',
    proceed: { kind: 'demote', nodeId: node.id },
  };
}

// ---- promote ----

/** Promoting `node`: fault tolerance before → after, and the even-count warning where it applies. */
export function planPromote(status: ActiveStatus, node: SwarmNode): DialogPlan {
  const subject = subjectOf(node);
  return {
    kind: 'promote',
    title: `Promote ${nameOf(subject)} to manager?`,
    facts: [
      ...toleranceFacts(changeOf(status, { kind: 'add', reachable: node.status.state === 'ready' })),
      'It joins the Raft group and keeps a copy of the swarm\'s state; every change then waits for a majority of the managers.',
    ],
    confirm: { label: 'Promote', destructive: false },
    cancelLabel: 'Cancel',
    proceed: { kind: 'promote', nodeId: node.id },
  };
}

/** Joining with a manager token: what one more manager does to fault tolerance. */
export function joinAsManagerFacts(status: ActiveStatus): string[] {
  return toleranceFacts(changeOf(status, { kind: 'add', reachable: true }));
}

// ---- remove ----

export function isManagerNode(node: SwarmNode): boolean {
  return node.role === 'manager' || node.spec.role === 'manager' || node.managerStatus !== undefined;
}

export function planRemove(status: ActiveStatus, nodes: readonly SwarmNode[], node: SwarmNode, refusal?: { code: SkepError['code']; text: string }): DialogPlan {
  const subject = subjectOf(node);
  const otherManagers = nodes.some((n) => n.id !== node.id && n.spec.role === 'manager');
  if (refusal?.code === 'REMOVE_LAST_MANAGER' || (!refusal && isManagerNode(node) && !otherManagers)) {
    return {
      kind: 'remove-last-manager',
      title: `Can't remove ${nameOf(subject)}`,
      message: refusal?.text ?? skepError('REMOVE_LAST_MANAGER', node.id).message,
      facts: [
        ...toleranceFacts(changeOf(status, { kind: 'remove', reachable: true })),
        'To end the swarm, leave it on the Swarm page: that erases the swarm\'s state. To keep the swarm, promote another node first; then this one can be demoted and removed.',
      ],
      cancelLabel: 'Close',
      proceed: { kind: 'none' },
    };
  }
  if (refusal?.code === 'REMOVE_MANAGER' || (!refusal && isManagerNode(node))) {
    const demoteRefusal = planDemote(status, nodes, subject);
    if (demoteRefusal) return { ...demoteRefusal, title: `Can't remove ${nameOf(subject)}` };
    return {
      kind: 'remove-manager',
      title: `Remove the manager ${nameOf(subject)}?`,
      message: refusal?.text ?? skepError('REMOVE_MANAGER', node.id).message,
      facts: [
        'Skep can demote it to a worker first and remove it once it has left the Raft group.',
        nowFact(status),
        ...removalFacts(status, node.id),
        node.status.state === 'down'
          ? 'It is down, so it can be removed as soon as it is demoted.'
          : 'It is still running: after removal the machine keeps running its containers until Skep on it leaves the swarm.',
      ],
      confirm: { label: 'Demote, then remove', destructive: true, typeToConfirm: typed(subject) },
      cancelLabel: 'Cancel',
      proceed: { kind: 'demote-then-remove', nodeId: node.id },
    };
  }
  if (refusal?.code === 'REMOVE_NODE_NOT_DOWN' || (!refusal && node.status.state !== 'down')) {
    return {
      kind: 'remove-not-down',
      title: `${nameOf(subject)} is still running`,
      message: refusal?.text ?? skepError('REMOVE_NODE_NOT_DOWN', node.id).message,
      facts: [
        'Removing it with force takes it out of the swarm now: the swarm stops scheduling on it and refuses its certificate.',
        'The machine keeps running its containers. To stop them, run "skep swarm leave" on that machine, or stop Skep there first.',
      ],
      confirm: { label: 'Remove with force', destructive: true, typeToConfirm: typed(subject) },
      cancelLabel: 'Cancel',
      proceed: { kind: 'remove', nodeId: node.id, force: true },
    };
  }
  return {
    kind: 'remove',
    title: `Remove ${nameOf(subject)}?`,
    facts: ['It is down. The swarm forgets it and refuses its certificate; to come back it must join again with a token.'],
    confirm: { label: 'Remove', destructive: true },
    cancelLabel: 'Cancel',
    proceed: { kind: 'remove', nodeId: node.id, force: false },
  };
}

// ---- quorum lost ----

export function planQuorumLost(status: ActiveStatus, self: Subject, message?: string): DialogPlan {
  const canRecoverHere = status.role === 'manager';
  return {
    kind: 'quorum-lost',
    title: 'Quorum lost',
    message: message ?? skepError('NO_LEADER').message,
    facts: [
      nowFact(status),
      WHAT_STOPS,
      'If the other managers are gone for good, rebuild the swarm from one surviving manager with "skep swarm init --force-new-cluster". That manager becomes the only manager of a new Raft group holding the state it last knew: changes it never received are lost, the other managers must leave and join again, and workers keep their tasks.',
      canRecoverHere
        ? 'This node is a manager, so Skep can do it here. Do it on one manager only.'
        : 'This node is a worker: open Skep on a surviving manager to recover.',
    ],
    ...(canRecoverHere ? { confirm: { label: 'Rebuild the swarm from this manager', destructive: true, typeToConfirm: typed(self) } } : {}),
    cancelLabel: canRecoverHere ? 'Cancel' : 'Close',
    proceed: canRecoverHere ? { kind: 'force-new-cluster' } : { kind: 'none' },
  };
}

export function planSwarmExists(message?: string): DialogPlan {
  return {
    kind: 'swarm-exists',
    title: 'Already in a swarm',
    message: message ?? skepError('SWARM_EXISTS').message,
    facts: ['Leave the current swarm on this page first, then start or join another.'],
    cancelLabel: 'Close',
    proceed: { kind: 'none' },
  };
}

// ---- refusals from the node ----

export interface RefusalContext {
  readonly status: ActiveStatus | undefined;
  readonly nodes: readonly SwarmNode[];
  readonly self: Subject;
  /** The node the refused action was about, when it was about one. */
  readonly node?: SwarmNode;
}

/** The dialog for a refusal the node sent, or undefined when it isn't one of the warnings. */
export function planForError(error: SkepError, context: RefusalContext): DialogPlan | undefined {
  const refusal = { code: error.code, text: error.message };
  if (error.code === 'SWARM_EXISTS') return planSwarmExists(error.message);
  const status = context.status;
  if (!status) return undefined;
  switch (error.code) {
    case 'LEAVE_MANAGER':
    case 'LEAVE_LAST_MANAGER':
    case 'LEAVE_LOSES_QUORUM':
      return planLeave(status, context.self, refusal);
    case 'DEMOTE_LAST_MANAGER':
    case 'DEMOTE_LOSES_QUORUM':
      return context.node ? planDemote(status, context.nodes, subjectOf(context.node), refusal) : undefined;
    case 'REMOVE_NODE_NOT_DOWN':
    case 'REMOVE_MANAGER':
    case 'REMOVE_LAST_MANAGER':
      return context.node ? planRemove(status, context.nodes, context.node, refusal) : undefined;
    case 'NO_LEADER':
      return planQuorumLost(status, context.self, error.message);
    default:
      return undefined;
  }
}
