// The local Docker Engine's status for SystemInfo; the dockerode side lives in exec/docker.
export { probeEngine, type EngineOptions } from './exec/docker/engine.js';
