// The outcome of the last action, read out by a live region: what happened, or why not and what next.
export interface Notice {
  readonly kind: 'done' | 'error';
  readonly text: string;
}

/** An error about one field of one form: the form shows it next to that field and marks the field invalid. */
export interface FieldError {
  /** Which form: 'init', 'join', or 'label-<node ID>'. */
  readonly form: string;
  readonly field: string;
  readonly text: string;
}

class FeedbackStore {
  notice = $state<Notice | undefined>(undefined);
  fieldError = $state<FieldError | undefined>(undefined);
  busy = $state<string | undefined>(undefined);

  done(text: string): void {
    this.notice = { kind: 'done', text };
  }

  error(text: string): void {
    this.notice = { kind: 'error', text };
  }

  /** Shown at the field instead of in the status line. */
  errorAt(fieldError: FieldError): void {
    this.notice = undefined;
    this.fieldError = fieldError;
  }

  clear(): void {
    this.notice = undefined;
    this.fieldError = undefined;
  }
}

export const feedback = new FeedbackStore();
