// Health seen from the nodes' Docker Engines: a swarm whose nodes have no engine can run nothing,
// however well its managers agree. Composed over swarmHealth (shared/health.ts) by the window,
// so the quorum rule and the engine rule stay apart. Pure: health and nodes in, health out.
import type { Health } from './health.js';
import type { SwarmNode } from './types.js';

/** A node reports '' as its engine version when no Docker Engine answers it (see NodeDescription). */
export function hasEngine(node: SwarmNode): boolean {
  return node.description.engineVersion !== '';
}

/** The part of a health sentence after its headline: "Healthy — 3 managers, can lose 1" → "3 managers, can lose 1". */
function detailOf(sentence: string): string {
  const dash = sentence.indexOf(' — ');
  return dash < 0 ? sentence : sentence.slice(dash + ' — '.length);
}

const ENGINE_ADVICE = 'Start Docker Engine on those machines, or install it (Add machine on the Nodes page installs it); each node reports its engine by itself once it answers.';

/**
 * `health` with the engines taken into account: ready nodes without an engine make a healthy swarm
 * degraded, and no engine anywhere says the swarm can run no tasks. Worse states (quorum at risk
 * or lost, no leader, failures) are left as they are: they come first. `thisNodeHasEngine` reads a
 * worker's own engine, the only one it knows.
 */
export function withEngines(health: Health, nodes: readonly SwarmNode[] | undefined, thisNodeHasEngine?: boolean): Health {
  if (health.level === 'worker') {
    if (thisNodeHasEngine !== false) return health;
    return { ...health, state: 'degraded', sentence: 'In the swarm as a worker — no Docker Engine, so this node runs no tasks', advice: ENGINE_ADVICE };
  }
  if ((health.level !== 'healthy' && health.level !== 'degraded') || !nodes) return health;
  const ready = nodes.filter((node) => node.status.state === 'ready');
  const without = ready.filter((node) => !hasEngine(node)).length;
  if (without === 0) return health;
  const advice = health.advice === '' ? ENGINE_ADVICE : `${ENGINE_ADVICE} ${health.advice}`;
  if (without === ready.length) {
    return { ...health, state: 'degraded', level: 'degraded', sentence: `No Docker Engine — no node can run tasks; ${detailOf(health.sentence)}`, advice };
  }
  const verb = without === 1 ? 'has' : 'have';
  return { ...health, state: 'degraded', level: 'degraded', sentence: `Degraded — ${without} of ${ready.length} ready nodes ${verb} no Docker Engine; ${detailOf(health.sentence)}`, advice };
}
