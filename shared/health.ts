// The swarm's health as one state and one sentence, shared by the banner, the tray and its
// notifications, so the window and the menu bar never disagree. Pure: status in, words out.
import { faultTolerance, quorumSize } from './quorum.js';
import type { SwarmNode, SwarmStatus } from './types.js';

/** The tray's four states. */
export type HealthState = 'healthy' | 'degraded' | 'critical' | 'offline';

/**
 * The banner's finer reading of the same facts. `at-risk` is degraded in the tray: the swarm still
 * works but one more failure stops it.
 */
export type HealthLevel = 'healthy' | 'degraded' | 'at-risk' | 'quorum-lost' | 'no-leader' | 'worker' | 'not-in-swarm' | 'failed' | 'removed' | 'locked';

export interface Health {
  readonly state: HealthState;
  readonly level: HealthLevel;
  /** The one plain sentence: "Healthy — 3 managers, can lose 1". */
  readonly sentence: string;
  /** What a person can do about it, or '' when nothing is needed. */
  readonly advice: string;
  readonly managers: number;
  readonly reachableManagers: number;
  readonly nodes: number;
  readonly readyNodes: number;
}

const NOT_IN_SWARM: Health = {
  state: 'offline',
  level: 'not-in-swarm',
  sentence: 'Not in a swarm',
  advice: 'Start a swarm on this machine, or join one with a token from a manager, on the Swarm page.',
  managers: 0,
  reachableManagers: 0,
  nodes: 0,
  readyNodes: 0,
};

function managersNoun(count: number): string {
  return count === 1 ? 'manager' : 'managers';
}

function canLose(count: number): string {
  return count <= 0 ? 'none' : String(count);
}

/** What a healthy swarm with no spare manager (1 or 2 managers) should know; '' otherwise. */
function toleranceAdvice(managers: number): string {
  if (faultTolerance(managers) > 0) return '';
  const even = managers % 2 === 0 ? ` ${managers} managers are no safer than ${managers - 1}.` : '';
  return `No manager can fail without stopping the swarm.${even} With 3 managers it keeps working while one is down.`;
}

/**
 * Reads health from the node's status and, when known, the node list (fresher after an action
 * than the counts in the last pushed status). `undefined` status means the node isn't answering.
 */
export function swarmHealth(status: SwarmStatus | undefined, nodeList?: readonly SwarmNode[]): Health {
  if (status === undefined || status.state === 'inactive') return NOT_IN_SWARM;
  // An autolocked manager that restarted: nothing runs until someone gives it the unlock key.
  if (status.state === 'locked') {
    return {
      state: 'critical',
      level: 'locked',
      sentence: 'This manager is locked',
      advice: 'Enter the swarm\'s unlock key (SKEPKEY-1-…) to start it: Unlock in the window, or "skep swarm unlock".',
      managers: 0,
      reachableManagers: 0,
      nodes: 0,
      readyNodes: 0,
    };
  }

  const nodes = nodeList ? nodeList.length : status.nodes;
  const readyNodes = nodeList ? nodeList.filter((node) => node.status.state === 'ready').length : status.readyNodes;
  const { managers, reachableManagers } = status;
  const counts = { managers, reachableManagers, nodes, readyNodes };

  // This node can't do its part: its manager stopped (a full disk), or a manager removed it.
  if (status.failure) {
    const removed = status.failure.code === 'NODE_REMOVED';
    return {
      ...counts,
      state: 'critical',
      level: removed ? 'removed' : 'failed',
      sentence: removed ? 'Removed from the swarm' : status.failure.recovering ? 'This manager has stopped — retrying' : 'This manager has stopped',
      advice: status.failure.message,
    };
  }

  // A worker holds no Raft view: it can't tell the managers' health, only that it is a member.
  if (managers === 0) {
    return {
      ...counts,
      state: 'healthy',
      level: 'worker',
      sentence: 'In the swarm as a worker',
      advice: 'Open Skep on a manager to see and change the whole swarm.',
    };
  }

  const quorum = quorumSize(managers);
  if (reachableManagers < quorum) {
    return {
      ...counts,
      state: 'critical',
      level: 'quorum-lost',
      sentence: `Quorum lost — ${reachableManagers} of ${managers} managers reachable; the swarm can't change`,
      advice: `Bring back ${quorum - reachableManagers} more ${managersNoun(quorum - reachableManagers)}, or rebuild the swarm from a surviving manager with "skep swarm init --force-new-cluster".`,
    };
  }
  if (status.leaderId === null) {
    return {
      ...counts,
      state: 'critical',
      level: 'no-leader',
      sentence: `No leader — ${reachableManagers} of ${managers} managers reachable; electing one`,
      advice: 'The managers are choosing a leader; this usually takes a few seconds.',
    };
  }

  // Spare reachable managers beyond the quorum: how many more can fail with the swarm still working.
  const spare = reachableManagers - quorum;
  const unreachable = managers - reachableManagers;
  const downNodes = nodes - readyNodes;
  const managerPart = unreachable > 0 ? `${reachableManagers} of ${managers} managers reachable` : `${managers} ${managersNoun(managers)}`;

  // The level says what is wrong now; how many managers may fail is in the sentence (shared/quorum.ts
  // states the rule): 1 and 2 reachable managers are both healthy and both "can lose none".
  if (spare === 0 && unreachable > 0) {
    return {
      ...counts,
      state: 'degraded',
      level: 'at-risk',
      sentence: `Quorum at risk — ${managerPart}, can lose none`,
      advice: 'Bring the unreachable managers back, or replace them: one more failure stops the swarm.',
    };
  }
  if (unreachable > 0 || downNodes > 0) {
    const downPart = downNodes > 0 ? `${downNodes} of ${nodes} nodes down; ` : '';
    return {
      ...counts,
      state: 'degraded',
      level: 'degraded',
      sentence: `Degraded — ${downPart}${managerPart}, can lose ${canLose(spare)}`,
      advice: 'Start the machines that are down, or remove them on the Nodes page if they are gone for good.',
    };
  }
  return {
    ...counts,
    state: 'healthy',
    level: 'healthy',
    sentence: `Healthy — ${managers} ${managersNoun(managers)}, can lose ${canLose(faultTolerance(managers))}`,
    advice: toleranceAdvice(managers),
  };
}

/** The health of a node that isn't running at all (the app's embedded node stopped). */
export function stoppedHealth(): Health {
  return { ...NOT_IN_SWARM, sentence: 'Skep is stopped', advice: 'Start Skep again to rejoin the swarm.' };
}

export interface HealthNotification {
  readonly title: string;
  readonly body: string;
}

const STATE_TITLES: Readonly<Record<HealthState, string>> = {
  healthy: 'Swarm healthy',
  degraded: 'Swarm degraded',
  critical: 'Swarm in trouble',
  offline: 'Not in a swarm',
};

/**
 * What to tell a person when health changes: only when the state itself changes (not every
 * sentence change, or a lagging follower would notify every second), and not for the first reading.
 */
export function healthNotification(previous: Health | undefined, next: Health): HealthNotification | undefined {
  if (previous === undefined || previous.state === next.state) return undefined;
  return { title: STATE_TITLES[next.state], body: next.advice === '' ? next.sentence : `${next.sentence}. ${next.advice}` };
}

/** The tray's counts, as "x/y". */
export function reachabilityLines(health: Health): { readonly managers: string; readonly nodes: string } {
  return {
    managers: `Managers reachable ${health.reachableManagers}/${health.managers}`,
    nodes: `Nodes ready ${health.readyNodes}/${health.nodes}`,
  };
}
