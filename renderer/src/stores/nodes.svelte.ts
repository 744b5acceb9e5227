// The swarm's nodes (`node ls`). Reloaded when the pushed status changes and after every action,
// never on a timer: status events already arrive when something changes.
import type { SwarmNode, SwarmStatus } from '../../../shared/types.js';
import { api } from '../lib/api.js';
import { errorText } from '../lib/errors.js';
import { cluster } from './cluster.svelte.js';

class NodesStore {
  list = $state<readonly SwarmNode[] | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  loading = $state(false);
  /** When the list on screen was read (ms since the epoch): shown as its age once a refresh fails. */
  updatedAt = $state<number | undefined>(undefined);
  private started = false;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private followedKey: string | undefined;

  start(): void {
    if (this.started) return;
    this.started = true;
    cluster.onChange((status) => this.follow(status));
  }

  private follow(status: SwarmStatus): void {
    // The status is pushed whenever any Raft number moves (every second while the leader
    // heartbeats); reload the list only when something the list shows may have changed.
    const key = status.state === 'active'
      ? [status.nodeId, status.role, status.nodes, status.readyNodes, status.managers, status.reachableManagers, status.leaderId].join('|')
      : 'inactive';
    if (key === this.followedKey) return;
    this.followedKey = key;
    if (status.state === 'active' && status.role === 'manager') {
      void this.load();
    } else {
      this.list = status.state === 'active' ? undefined : [];
      this.error = undefined;
    }
  }

  /** Loads now; if a load is already running, runs one more after it, so the last word is fresh. */
  load(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.loading = true;
    this.inFlight = (async () => {
      try {
        do {
          this.again = false;
          try {
            this.list = await api.nodeList();
            this.updatedAt = Date.now();
            this.error = undefined;
          } catch (error) {
            this.error = errorText(error);
          }
        } while (this.again);
      } finally {
        this.loading = false;
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  byId(id: string): SwarmNode | undefined {
    return this.list?.find((node) => node.id === id);
  }
}

export const nodes = new NodesStore();
