// The swarm as this node sees it: status pushed by the node ('swarm.status', sent when it changes),
// and the health read from it. The nodes store follows it; nothing here polls.
import type { SwarmStatus } from '../../../shared/types.js';
import { api } from '../lib/api.js';
import { errorText } from '../lib/errors.js';

class ClusterStore {
  status = $state<SwarmStatus | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  /** When the status on screen was read (ms since the epoch). */
  updatedAt = $state<number | undefined>(undefined);
  private readonly listeners = new Set<(status: SwarmStatus) => void>();
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((event) => {
      if (event.type === 'swarm.status') this.set(event.payload);
    });
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.set(await api.getSwarmStatus());
      this.error = undefined;
    } catch (error) {
      this.error = errorText(error);
    }
  }

  /** Called with every new status, e.g. so the node list can follow membership changes. */
  onChange(listener: (status: SwarmStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(status: SwarmStatus): void {
    this.status = status;
    this.updatedAt = Date.now();
    for (const listener of this.listeners) listener(status);
  }

  get active(): Extract<SwarmStatus, { state: 'active' }> | undefined {
    return this.status?.state === 'active' ? this.status : undefined;
  }

  get isManager(): boolean {
    return this.active?.role === 'manager';
  }
}

export const cluster = new ClusterStore();

