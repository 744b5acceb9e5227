// What a command that changes the manager count does to fault tolerance, told on stderr after
// Docker's own line (stdout stays Docker's; `swarm join-token manager` tells what one more manager does): "Fault tolerance: 3 managers, can lose 1 → 4 managers,
// can lose 1", and the warnings of shared/quorum.ts (an even count, tolerance or quorum lost).
import type { SkepClient } from '../../shared/api.js';
import { managerCountChange, type ManagerCountChange } from '../../shared/quorum.js';

export type ManagerAction = { readonly kind: 'promote' | 'demote'; readonly ref: string } | { readonly kind: 'leave' } | { readonly kind: 'join-manager' };

/** The change `action` would make, read before it runs; undefined when it changes no manager count. */
export async function plannedManagerChange(api: SkepClient, action: ManagerAction): Promise<ManagerCountChange | undefined> {
  try {
    const status = await api.getSwarmStatus();
    if (status.state !== 'active' || status.role !== 'manager' || status.managers === 0) return undefined;
    const before = { managers: status.managers, reachable: status.reachableManagers };
    if (action.kind === 'leave') return managerCountChange(before, { kind: 'remove', reachable: true });
    if (action.kind === 'join-manager') return managerCountChange(before, { kind: 'add', reachable: true });
    const node = await api.nodeInspect(action.ref);
    const member = status.raft?.members.find((m) => m.nodeId === node.id && m.role !== 'learner');
    if (action.kind === 'promote') return node.spec.role === 'manager' ? undefined : managerCountChange(before, { kind: 'add', reachable: node.status.state === 'ready' });
    return node.spec.role === 'worker' || !member ? undefined : managerCountChange(before, { kind: 'remove', reachable: member.reachable });
  } catch {
    return undefined; // the command itself says what is wrong
  }
}

export function managerChangeNote(change: ManagerCountChange | undefined, lead = ''): string {
  if (!change) return '';
  return [`${lead}Fault tolerance: ${change.sentence}.`, ...change.warnings.map((warning) => `WARNING: ${warning}`)].join('\n') + '\n';
}
