// The scheduler: one pure pass from nodes and tasks to placement decisions.
export { schedule, MESSAGE_ASSIGNED, MESSAGE_PENDING, MESSAGE_PREASSIGNED_CONFIRMED, type SchedulerInput, type SchedulingResult, type TaskStatusUpdate } from './scheduler.js';
export { Pipeline } from './pipeline.js';
export { defaultFilters, type Filter } from './filters.js';
export { NodeInfo } from './node-info.js';
