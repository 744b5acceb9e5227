// This machine and its swarm membership, kept current by pushed events (no polling from the page).
import type { SwarmStatus, SystemInfo } from '../../../shared/types.js';
import { api } from '../lib/api.js';

class SystemStore {
  info = $state<SystemInfo | undefined>(undefined);
  swarm = $state<SwarmStatus | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((event) => {
      if (event.type === 'system.info') this.info = event.payload;
      if (event.type === 'swarm.status') this.swarm = event.payload;
    });
    void this.load();
  }

  async load(): Promise<void> {
    try {
      const [info, swarm] = await Promise.all([api.getSystemInfo(), api.getSwarmStatus()]);
      this.info = info;
      this.swarm = swarm;
      this.error = undefined;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }
}

export const system = new SystemStore();
