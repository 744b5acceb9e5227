// The implementation of the API for one node. Until the swarm manager lands it answers what a node
// that is not in a swarm can: its own facts, its engine, and "not part of a swarm".
import { isDeepStrictEqual } from 'node:util';
import type { EventListener, SkepEvent, SkepService } from '../../shared/api.js';
import type { SwarmStatus, SystemInfo } from '../../shared/types.js';
import { SKEP_VERSION } from '../../shared/version.js';
import { probeEngine, type EngineOptions } from '../agent/engine.js';
import { readHostFacts } from '../agent/host-facts.js';

export interface NodeServiceOptions {
  readonly dataDir: string;
  readonly engine?: EngineOptions;
  /** How often facts are re-read while someone listens, so an engine that starts later shows up. */
  readonly refreshMs?: number;
}

export class NodeService implements SkepService {
  private readonly listeners = new Set<EventListener>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastInfo: SystemInfo | undefined;

  constructor(private readonly options: NodeServiceOptions) {}

  async getSystemInfo(): Promise<SystemInfo> {
    const [host, engine] = await Promise.all([readHostFacts(), probeEngine(this.options.engine)]);
    const info: SystemInfo = {
      ...host,
      dataDir: this.options.dataDir,
      engine,
      skepVersion: SKEP_VERSION,
      nodeVersion: process.versions.node,
    };
    this.lastInfo = info;
    return info;
  }

  async getSwarmStatus(): Promise<SwarmStatus> {
    return { state: 'inactive' };
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.startRefreshing();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopRefreshing();
    };
  }

  close(): void {
    this.listeners.clear();
    this.stopRefreshing();
  }

  private emit(event: SkepEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private startRefreshing(): void {
    this.refreshTimer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 5000);
    this.refreshTimer.unref();
  }

  private stopRefreshing(): void {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private async refresh(): Promise<void> {
    const previous = this.lastInfo;
    const info = await this.getSystemInfo();
    // Memory and uptime-like fields are stable; only a real change (engine up/down, rename) is news.
    if (!isDeepStrictEqual(previous, info)) this.emit({ type: 'system.info', payload: info });
  }
}
