// This machine's facts, kept current by pushed events (no polling from the page).
import type { SystemInfo } from '../../../shared/types.js';
import { api } from '../lib/api.js';
import { errorText } from '../lib/errors.js';

class SystemStore {
  info = $state<SystemInfo | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((event) => {
      if (event.type === 'system.info') this.info = event.payload;
    });
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.info = await api.getSystemInfo();
      this.error = undefined;
    } catch (error) {
      this.error = errorText(error);
    }
  }
}

export const system = new SystemStore();
