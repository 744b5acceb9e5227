// The orchestrator: one pure pass from the store's state to the store changes that converge it.
export { orchestrate, type OrchestrateOptions, type OrchestratorResult } from './orchestrate.js';
export type { OrchestratorChange, OrchestratorState } from './tx.js';
export { UPDATE_MESSAGES } from './update.js';
export { ENFORCER_ERR, ENFORCER_MESSAGE } from './enforcer.js';
export { OLD_TASK_TIMEOUT_MS, shouldRestart } from './restart.js';
export { scaleDownOrder } from './replicated.js';
