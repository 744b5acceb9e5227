// The one warning dialog on screen, and the promise of the person's answer.
import type { DialogPlan } from '../lib/plans.js';

class DialogStore {
  current = $state<DialogPlan | undefined>(undefined);
  private answer: ((confirmed: boolean) => void) | undefined;

  /** Shows `plan`; resolves true if the person confirmed, false if they cancelled. */
  ask(plan: DialogPlan): Promise<boolean> {
    this.answer?.(false);
    this.current = plan;
    return new Promise((resolve) => (this.answer = resolve));
  }

  close(confirmed: boolean): void {
    const answer = this.answer;
    this.answer = undefined;
    this.current = undefined;
    answer?.(confirmed);
  }
}

export const dialogs = new DialogStore();
