// The swarm's services (`service ls`) and tasks (`service ps` of all). There is no service event: a
// task or service change is a Raft write, and every write moves the status the node pushes
// (`raft.appliedIndex`), so following that keeps the lists live without a timer.
import type { ServiceListEntry, Task } from '../../../shared/services.js';
import type { SwarmStatus } from '../../../shared/types.js';
import { api } from '../lib/api.js';
import { errorText } from '../lib/errors.js';
import { cluster } from './cluster.svelte.js';

class ServicesStore {
  list = $state<readonly ServiceListEntry[] | undefined>(undefined);
  tasks = $state<readonly Task[]>([]);
  error = $state<string | undefined>(undefined);
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
    const manager = status.state === 'active' && status.role === 'manager';
    const key = manager ? [status.nodeId, status.leaderId, status.raft?.appliedIndex].join('|') : 'none';
    if (key === this.followedKey) return;
    this.followedKey = key;
    if (manager) {
      void this.load();
    } else {
      this.list = undefined;
      this.tasks = [];
      this.error = undefined;
    }
  }

  /** Loads now; if a load is already running, runs one more after it, so the last word is fresh. */
  load(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      try {
        do {
          this.again = false;
          try {
            const [list, tasks] = await Promise.all([api.serviceList(), api.taskList({})]);
            this.list = list;
            this.tasks = tasks;
            this.error = undefined;
          } catch (error) {
            this.error = errorText(error);
          }
        } while (this.again);
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

export const services = new ServicesStore();
