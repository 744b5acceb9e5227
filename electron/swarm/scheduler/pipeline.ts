// Runs the filters over nodes for one task and remembers, per filter, on how many nodes it failed,
// so "no suitable node (…)" can list the reasons, most frequent first (manager/scheduler/pipeline.go).
import { defaultFilters, type Filter } from './filters.js';
import type { NodeInfo } from './node-info.js';

interface ChecklistEntry {
  readonly filter: Filter;
  enabled: boolean;
  failures: number;
}

export class Pipeline {
  private readonly checklist: ChecklistEntry[];

  constructor(filters: readonly Filter[] = defaultFilters()) {
    this.checklist = filters.map((filter) => ({ filter, enabled: false, failures: 0 }));
  }

  setTask(task: Parameters<Filter['setTask']>[0]): void {
    for (const entry of this.checklist) {
      entry.enabled = entry.filter.setTask(task);
      entry.failures = 0;
    }
  }

  /** Whether the node passes every enabled filter. The first failing filter counts the node; a pass clears the counts, as Swarm's does. */
  process(node: NodeInfo): boolean {
    for (const entry of this.checklist) {
      if (entry.enabled && !entry.filter.check(node)) {
        entry.failures++;
        return false;
      }
    }
    for (const entry of this.checklist) entry.failures = 0;
    return true;
  }

  /** The failures since the last pass, most frequent first; ties keep the filters' order. */
  explain(): string {
    return this.checklist
      .filter((e) => e.failures > 0)
      .map((e, order) => ({ e, order }))
      .sort((a, b) => b.e.failures - a.e.failures || a.order - b.order)
      .map(({ e }) => e.filter.explain(e.failures))
      .join('; ');
  }
}
