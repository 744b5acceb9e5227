// The outcome of the last action, read out by a live region: what happened, or why not and what next.
export interface Notice {
  readonly kind: 'done' | 'error';
  readonly text: string;
}

class FeedbackStore {
  notice = $state<Notice | undefined>(undefined);
  busy = $state<string | undefined>(undefined);

  done(text: string): void {
    this.notice = { kind: 'done', text };
  }

  error(text: string): void {
    this.notice = { kind: 'error', text };
  }

  clear(): void {
    this.notice = undefined;
  }
}

export const feedback = new FeedbackStore();
