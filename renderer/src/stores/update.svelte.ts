// A newer Skep, as the desktop app's updater pushes it ('app.update'). Browser mode never hears
// one: a CLI or daemon install is updated by replacing its bundle (README, "Install").
import type { UpdateNotice } from '../../../shared/update-notice.js';
import { api } from '../lib/api.js';

class UpdateStore {
  notice = $state<UpdateNotice | undefined>(undefined);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    api.onEvent((event) => {
      if (event.type === 'app.update') this.notice = event.payload;
    });
  }
}

export const update = new UpdateStore();
