// Leader-silence failover: the detector's arithmetic (pure, a clock passed in), the survivors' campaign
// schedule, and RaftNodes with real WALs on an in-process network where a leader can fall silent.
import { afterEach, describe, expect, it } from 'vitest';
import { campaignSchedule, SilenceDetector, type SilenceDetectorOptions } from '../../../electron/raft/silence.js';
import type { NodeId } from '../../../electron/raft/types.js';
import { LocalCluster, waitFor } from './cluster.js';

const OPTIONS: SilenceDetectorOptions = { heartbeatMs: 100, missedHeartbeats: 4, maxSilenceMs: 1000, safetyFactor: 2, memoryMs: 60_000 };

describe('SilenceDetector', () => {
  it('judges a peer it never heard from as not silent (nothing to go by)', () => {
    const d = new SilenceDetector(OPTIONS);
    expect(d.isSilent('a', 1_000_000)).toBe(false);
    expect(d.silentForMs('a', 1_000_000)).toBeUndefined();
  });

  it('calls a peer silent after missedHeartbeats × heartbeatMs when its heartbeats were regular', () => {
    const d = new SilenceDetector(OPTIONS);
    for (let t = 0; t <= 1000; t += 100) d.heard('a', t);
    expect(d.thresholdMs('a', 1000)).toBe(400);
    expect(d.isSilent('a', 1400)).toBe(false);
    expect(d.isSilent('a', 1401)).toBe(true);
  });

  it('lengthens the threshold after gaps a healthy peer came back from, up to the ceiling', () => {
    const d = new SilenceDetector(OPTIONS);
    d.heard('a', 0);
    d.heard('a', 300); // a 300 ms stall, then the peer was back
    expect(d.thresholdMs('a', 300)).toBe(600);
    expect(d.isSilent('a', 800)).toBe(false);
    d.heard('a', 1000);
    d.heard('a', 1700); // 700 ms: 2 × 700 is past the ceiling
    expect(d.thresholdMs('a', 1700)).toBe(1000);
  });

  it('learns nothing from an outage (a gap past the ceiling) and forgets old gaps', () => {
    const d = new SilenceDetector(OPTIONS);
    d.heard('a', 0);
    d.heard('a', 30_000); // healed partition
    expect(d.thresholdMs('a', 30_000)).toBe(400);
    d.heard('a', 30_450); // a 450 ms stall
    expect(d.thresholdMs('a', 30_450)).toBe(900);
    expect(d.thresholdMs('a', 30_450 + OPTIONS.memoryMs + 1)).toBe(400);
  });

  it('takes the latest of signs of life that arrive out of order', () => {
    const d = new SilenceDetector(OPTIONS);
    d.heard('a', 500);
    d.heard('a', 200);
    expect(d.silentForMs('a', 600)).toBe(100);
    d.forget('a');
    expect(d.silentForMs('a', 600)).toBeUndefined();
  });
});

describe('campaignSchedule', () => {
  it('orders the surviving voters by node ID, a stagger apart, and skips the lost leader and non-voters', () => {
    const voters = ['n3', 'n1', 'n2'];
    expect(campaignSchedule('n1', voters, 'n2', 100)).toEqual({ firstAfterMs: 0, retryEveryMs: 200 });
    expect(campaignSchedule('n3', voters, 'n2', 100)).toEqual({ firstAfterMs: 100, retryEveryMs: 200 });
    expect(campaignSchedule('n4', voters, 'n2', 100)).toBeUndefined();
  });
});

describe('RaftNode with leaderSilence', () => {
  let cluster: LocalCluster | undefined;
  const lost: { id: NodeId; why: string }[] = [];
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    lost.length = 0;
  });

  // Raft's own election timeout is 10–20 s here, so a new leader within the waits below can only come from
  // the silence detector (with its 1 s ceiling).
  async function start(transportHeardAt?: (from: NodeId, to: NodeId) => number | undefined): Promise<LocalCluster> {
    const c = await LocalCluster.start({ nodeOptions: { tickMs: 20, electionTick: 500, leaderSilence: { maxSilenceMs: 1000 } } });
    cluster = c;
    // Restart each node with its own logger and transport view (start() made them with the defaults).
    for (const id of c.ids) {
      await c.stopNode(id);
      await c.startNode(id, {
        logger: (_level, message, fields) => {
          if (message === 'raft leader lost') lost.push({ id, why: String(fields?.['why']) });
        },
        ...(transportHeardAt ? { transportHeardAt: (peer: NodeId) => transportHeardAt(peer, id) } : {}),
      });
    }
    c.node('n1').campaign();
    await c.waitForLeader(5000);
    return c;
  }

  it('replaces a leader that falls silent (a pulled cable: no reset) long before the election timeout', async () => {
    const c = await start();
    const old = await c.waitForLeader();
    const term = old.status().term;
    c.isolated.add(old.id);
    let next: NodeId | null = null;
    await waitFor(() => {
      const views = c.followers(old).map((n) => n.status());
      next = views.every((v) => v.leader !== null && v.leader !== old.id && v.leader === views[0]?.leader) ? (views[0]?.leader ?? null) : null;
      return next !== null;
    }, 8000, 'a new leader among the survivors');
    expect(next).not.toBe(old.id);
    expect(c.node(next!).status().term).toBeGreaterThan(term);
    expect(lost.some((l) => l.id !== old.id && l.why.startsWith('silent for'))).toBe(true);
    expect(await c.node(next!).propose(new TextEncoder().encode('k=after'))).toMatch(/^k@/);
  });

  it('keeps a leader whose Raft messages stall while its connections still answer (a slow disk)', async () => {
    let raftStalled = false;
    const c = await start(() => (raftStalled ? Date.now() : undefined));
    const leader = await c.waitForLeader();
    const term = leader.status().term;
    // The leader's Raft traffic stops (as behind a stalled fsync) but its process answers PINGs.
    raftStalled = true;
    c.dropIf = (m) => m.from === leader.id;
    await new Promise((r) => setTimeout(r, 2500));
    c.dropIf = null;
    raftStalled = false;
    expect(lost).toEqual([]);
    await waitFor(() => c.followers(leader).every((n) => n.status().leader === leader.id), 5000, 'followers back with the leader');
    expect(leader.status()).toMatchObject({ role: 'leader', term });
  });

  it('lets no single follower that lost the leader depose it: the others, still hearing it, refuse', async () => {
    const c = await start();
    const leader = await c.waitForLeader();
    const term = leader.status().term;
    const [cutOff] = c.followers(leader) as [ReturnType<LocalCluster['node']>];
    c.dropIf = (m) => (m.from === leader.id && m.to === cutOff.id) || (m.from === cutOff.id && m.to === leader.id);
    await waitFor(() => lost.some((l) => l.id === cutOff.id), 5000, 'the cut-off follower to give its leader up');
    await new Promise((r) => setTimeout(r, 1500));
    c.dropIf = null;
    await waitFor(() => cutOff.status().leader === leader.id, 5000, 'the follower back with its leader');
    expect(leader.status()).toMatchObject({ role: 'leader', term });
    expect(lost.every((l) => l.id === cutOff.id)).toBe(true);
  });
});
