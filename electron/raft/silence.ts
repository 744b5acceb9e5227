// Leader-silence detection: how long may a peer stay quiet before it is presumed gone? Pure (the
// caller passes the clock), so it is tested without timers. See README "Failover without a reset".
import type { NodeId } from './types.js';

export interface SilenceDetectorOptions {
  /** How often a healthy peer shows a sign of life (the leader's heartbeat period). */
  readonly heartbeatMs: number;
  /** Heartbeats in a row a peer may miss before it counts as silent: the floor of the threshold. */
  readonly missedHeartbeats: number;
  /**
   * The threshold never exceeds this; past it Raft's own election timeout decides anyway. Gaps this
   * long or longer are outages (a partition, a restart), not jitter, and teach the detector nothing.
   */
  readonly maxSilenceMs: number;
  /** The threshold is at least this many times the longest gap a healthy peer recently came back from. */
  readonly safetyFactor: number;
  /** How long such a gap is remembered. */
  readonly memoryMs: number;
}

export const DEFAULT_SILENCE_OPTIONS: Omit<SilenceDetectorOptions, 'heartbeatMs' | 'maxSilenceMs'> = {
  missedHeartbeats: 4,
  safetyFactor: 2,
  memoryMs: 120_000,
};

interface PeerRecord {
  lastHeardMs: number;
  /** Gaps the peer came back from (at, ms), longer than a heartbeat: the jitter we must tolerate. */
  gaps: { atMs: number; gapMs: number }[];
}

/**
 * Tracks when each peer was last heard from (a Raft message, or any bytes its connections carried)
 * and says when one has been silent for longer than it has lately been seen to be while healthy.
 * The threshold adapts: a peer on a loaded machine whose signs of life arrive in bursts gets a longer
 * one (up to maxSilenceMs); an idle, healthy group keeps the floor of missedHeartbeats × heartbeatMs.
 * Our own stalls (a late check) are not the peer's silence: the caller skips judging after one.
 */
export class SilenceDetector {
  private readonly peers = new Map<NodeId, PeerRecord>();
  private readonly floorMs: number;

  constructor(private readonly options: SilenceDetectorOptions) {
    this.floorMs = Math.min(options.maxSilenceMs, options.heartbeatMs * options.missedHeartbeats);
  }

  /** A sign of life from `peer` at `atMs` (times may arrive out of order; the latest counts). */
  heard(peer: NodeId, atMs: number): void {
    const record = this.peers.get(peer);
    if (record === undefined) {
      this.peers.set(peer, { lastHeardMs: atMs, gaps: [] });
      return;
    }
    if (atMs <= record.lastHeardMs) return;
    const gapMs = atMs - record.lastHeardMs;
    record.lastHeardMs = atMs;
    if (gapMs > this.options.heartbeatMs && gapMs < this.options.maxSilenceMs) {
      record.gaps.push({ atMs, gapMs });
      this.forgetOld(record, atMs);
    }
  }

  /** Forgets a peer (it left, or a new leader starts with a clean slate). */
  forget(peer: NodeId): void {
    this.peers.delete(peer);
  }

  /** Milliseconds since `peer` was last heard from; undefined if never. */
  silentForMs(peer: NodeId, nowMs: number): number | undefined {
    const record = this.peers.get(peer);
    return record === undefined ? undefined : Math.max(0, nowMs - record.lastHeardMs);
  }

  /** How long `peer` may be silent now before it is presumed gone. */
  thresholdMs(peer: NodeId, nowMs: number): number {
    const record = this.peers.get(peer);
    if (record === undefined) return this.floorMs;
    this.forgetOld(record, nowMs);
    let longest = 0;
    for (const g of record.gaps) longest = Math.max(longest, g.gapMs);
    return Math.min(this.options.maxSilenceMs, Math.max(this.floorMs, Math.ceil(longest * this.options.safetyFactor)));
  }

  /** True when `peer` has been heard from before and silent for longer than its threshold. */
  isSilent(peer: NodeId, nowMs: number): boolean {
    const silent = this.silentForMs(peer, nowMs);
    return silent !== undefined && silent > this.thresholdMs(peer, nowMs);
  }

  private forgetOld(record: PeerRecord, nowMs: number): void {
    const since = nowMs - this.options.memoryMs;
    while (record.gaps.length > 0 && (record.gaps[0] as { atMs: number }).atMs < since) record.gaps.shift();
  }
}

/**
 * Who campaigns when after the leader is lost: the surviving voters in node-ID order, `staggerMs`
 * apart, so that the first one usually wins without a split vote; each tries again every
 * `survivors × staggerMs` while no leader is known (a pre-vote refused by a voter that had not yet
 * noticed the silence is simply asked again). Returns undefined for a node that is not a survivor.
 */
export function campaignSchedule(
  self: NodeId,
  voters: readonly NodeId[],
  lostLeader: NodeId,
  staggerMs: number,
): { firstAfterMs: number; retryEveryMs: number } | undefined {
  const survivors = voters.filter((id) => id !== lostLeader).sort();
  const rank = survivors.indexOf(self);
  if (rank < 0) return undefined;
  return { firstAfterMs: rank * staggerMs, retryEveryMs: Math.max(1, survivors.length) * staggerMs };
}
