import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProposalDroppedError } from '../../../electron/raft/core/index.js';
import { ProposalTimeoutError, RaftNode, RaftNodeStoppedError } from '../../../electron/raft/node.js';
import { kv, KvStateMachine, LocalCluster, waitFor } from './cluster.js';

// Real processes, timers and fsync on a shared 2-core machine: generous, and never a timing assertion.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

async function proposeMany(node: RaftNode<string>, prefix: string, n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => node.propose(kv(`${prefix}${i}`, `v${i}`))));
}

describe('RaftNode: three members in one process with real WAL directories', () => {
  it('elect one leader and tell everyone through events', async () => {
    cluster = await LocalCluster.start();
    const seen = new Map<string, string | null>();
    for (const n of cluster.nodes.values()) n.on('leaderChanged', (leader) => seen.set(n.id, leader));
    const leader = await cluster.waitForLeader();
    await waitFor(() => [...seen.values()].filter((l) => l === leader.id).length === 3, 10_000, 'leaderChanged on all');
    expect(leader.status().role).toBe('leader');
    expect(cluster.followers(leader).map((f) => f.status().role)).toEqual(['follower', 'follower']);
  });

  it('commit proposals, resolve them with the apply result, and apply them on every member', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    const results = await proposeMany(leader, 'k', 200);
    expect(results.map((r) => r.split('@')[0])).toEqual(Array.from({ length: 200 }, (_, i) => `k${i}`));
    const indexes = results.map((r) => Number(r.split('@')[1]));
    expect([...indexes].sort((a, b) => a - b)).toEqual(indexes);
    for (const id of cluster.ids) {
      await waitFor(() => cluster!.machine(id).map.size === 200, 10_000, `${id} applied all`);
      expect(cluster.machine(id).map.get('k199')).toBe('v199');
    }
  });

  it('batch many proposals into few fsyncs', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    const before = leader.status().counters;
    await proposeMany(leader, 'b', 500);
    const after = leader.status().counters;
    expect(after.entriesSaved - before.entriesSaved).toBeGreaterThanOrEqual(500);
    // Proposals made in one go share a Ready, hence one fsync: far fewer writes than proposals.
    expect(after.saves - before.saves).toBeLessThan(50);
  });

  it('forward proposals made on a follower to the leader', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    const follower = cluster.followers(leader)[0]!;
    await waitFor(() => follower.status().leader === leader.id);
    const r = await follower.propose(kv('from-follower', 'yes'));
    expect(r).toMatch(/^from-follower@\d+$/);
    expect(cluster.machine(follower.id).map.get('from-follower')).toBe('yes');
  });

  it('survive a follower stop and restart from disk with nothing acknowledged lost', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    const acked: string[] = [];
    for (const r of await proposeMany(leader, 'before', 100)) acked.push(r);
    const follower = cluster.followers(leader)[0]!;
    const fid = follower.id;
    await cluster.stopNode(fid);
    // The other two still form a quorum.
    for (const r of await proposeMany(leader, 'during', 100)) acked.push(r);

    const restarted = await cluster.startNode(fid);
    expect(restarted.repairs).toEqual([]);
    await waitFor(() => cluster!.machine(fid).map.size === 200, 20_000, 'restarted follower catches up');
    for (const r of await proposeMany(cluster.node(leader.id), 'after', 50)) acked.push(r);
    for (const id of cluster.ids) {
      await waitFor(() => cluster!.machine(id).map.size === 250, 20_000, `${id} has everything`);
      for (const r of acked) expect(cluster.machine(id).map.has(r.split('@')[0]!)).toBe(true);
    }
  });

  it('restart every member from disk: committed state comes back from the WAL alone', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    const acked = await proposeMany(leader, 'x', 120);
    // Let the followers learn the final commit index (it travels with the next append or heartbeat).
    for (const id of cluster.ids) await waitFor(() => cluster!.machine(id).map.size === 120, 10_000, `${id} applied`);
    for (const id of cluster.ids) await cluster.stopNode(id);
    // Restart cut off from each other: each member re-applies what its own disk says is committed.
    for (const id of cluster.ids) cluster.isolated.add(id);
    for (const id of cluster.ids) await cluster.startNode(id);
    for (const id of cluster.ids) {
      await waitFor(() => cluster!.machine(id).map.size === 120, 10_000, `${id} re-applied from its own disk`);
    }
    cluster.isolated.clear();
    const newLeader = await cluster.waitForLeader();
    await newLeader.propose(kv('after-restart', '1'));
    for (const id of cluster.ids) {
      await waitFor(() => cluster!.machine(id).map.size === 121, 20_000, `${id} re-applied`);
      for (const r of acked) expect(cluster.machine(id).map.has(r.split('@')[0]!)).toBe(true);
    }
  });

  it('serve linearizable reads with readIndex, on the leader and on a follower', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    const r = await leader.propose(kv('r', '1'));
    const writtenAt = Number(r.split('@')[1]);
    const [a, b] = await Promise.all([leader.readIndex(), leader.readIndex()]);
    expect(a).toBeGreaterThanOrEqual(writtenAt);
    expect(b).toBeGreaterThanOrEqual(writtenAt);
    const follower = cluster.followers(leader)[0]!;
    await waitFor(() => follower.status().leader === leader.id);
    const fi = await follower.readIndex();
    expect(fi).toBeGreaterThanOrEqual(writtenAt);
    // Once it resolves, the follower's state machine already shows the write.
    expect(cluster.machine(follower.id).map.get('r')).toBe('1');
  });

  it('re-ask a ReadIndex whose request or answer was lost', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    await leader.propose(kv('q', '1'));
    const follower = cluster.followers(leader)[0]!;
    await waitFor(() => follower.status().leader === leader.id);
    let dropped = 0;
    cluster.dropIf = (m) => m.type === 'readIndex' && dropped++ === 0;
    expect(await follower.readIndex()).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThanOrEqual(2);
  });

  it('transfer leadership to a named follower', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    await leader.propose(kv('t', '1'));
    const target = cluster.followers(leader)[1]!;
    const roles: string[] = [];
    leader.on('roleChanged', (role) => roles.push(role));
    await leader.transferLeadership(target.id);
    const now = await cluster.waitForLeader();
    expect(now.id).toBe(target.id);
    expect(roles).toContain('follower');
    expect(await now.propose(kv('t', '2'))).toMatch(/^t@/);
  });

  it('take snapshots, compact, and bring a lagging member back with a snapshot', async () => {
    cluster = await LocalCluster.start({ nodeOptions: { snapshotEntries: 50, catchUpEntries: 10, segmentBytes: 4096 } });
    const leader = await cluster.waitForLeader();
    const lagging = cluster.followers(leader)[0]!.id;
    await cluster.stopNode(lagging);
    for (let round = 0; round < 6; round++) await proposeMany(leader, `s${round}-`, 50);
    expect(leader.status().snapshotIndex).toBeGreaterThan(0);
    expect(leader.status().firstIndex).toBeGreaterThan(1);
    const snapDir = path.join(cluster.dataDirs.get(leader.id)!, 'snap');
    expect((await fs.readdir(snapDir)).filter((n) => n.endsWith('.snap')).length).toBe(2);

    const back = await cluster.startNode(lagging);
    await waitFor(() => cluster!.machine(lagging).map.size === 300, 20_000, 'lagging member catches up');
    expect(cluster.machine(lagging).restores).toBeGreaterThan(0);
    expect(back.status().snapshotIndex).toBeGreaterThan(0);

    // And it restarts from its own snapshot + WAL.
    await cluster.stopNode(lagging);
    await cluster.startNode(lagging);
    await waitFor(() => cluster!.machine(lagging).map.size === 300, 20_000, 'restart from snapshot');
    expect(cluster.machine(lagging).restores).toBe(1);
  });

  it('add a member as a learner, promote it, and resolve with the new membership', async () => {
    cluster = await LocalCluster.start();
    const leader = await cluster.waitForLeader();
    await leader.propose(kv('m', '1'));
    const seen: string[][] = [];
    leader.on('confChanged', (cs) => seen.push([...cs.voters]));
    // Every member hears about membership changes, not only the proposer.
    const follower = cluster.followers(leader)[0]!;
    const followerSaw: string[][] = [];
    follower.on('confChanged', (cs) => followerSaw.push([...cs.learners]));
    const cs1 = await leader.proposeConfChange({ type: 'addLearner', nodeId: 'n4' });
    expect(cs1.learners).toEqual(['n4']);
    await cluster.startNode('n4', { bootstrap: undefined });
    await waitFor(() => cluster!.machine('n4').map.get('m') === '1', 20_000, 'learner catches up');
    const cs2 = await leader.proposeConfChange({ type: 'promote', nodeId: 'n4' });
    expect([...cs2.voters].sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    await waitFor(() => followerSaw.length >= 2, 10_000, 'follower confChanged events');
    expect(followerSaw[0]).toEqual(['n4']);
    await waitFor(() => cluster!.node('n4').status().confState.voters.length === 4, 10_000, 'n4 sees itself as voter');
  });

  it('reject a proposal at once when no leader is known, and after stop', async () => {
    cluster = await LocalCluster.start({ ids: ['solo', 'ghost1', 'ghost2'] });
    // Only one of three founders runs: no quorum, never a leader.
    await cluster.stopNode('ghost1');
    await cluster.stopNode('ghost2');
    const solo = cluster.node('solo');
    // On a loaded machine a leader may have been elected before the others stopped: wait until solo
    // has noticed it is alone (its election timeout passes and no leader is known).
    for (let i = 0; i < 200 && solo.status().leader !== null; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(solo.status().leader).toBeNull();
    await expect(solo.propose(kv('a', '1'))).rejects.toBeInstanceOf(ProposalDroppedError);
    await expect(solo.readIndex()).rejects.toBeInstanceOf(ProposalDroppedError);
    await solo.stop();
    await expect(solo.propose(kv('a', '1'))).rejects.toBeInstanceOf(RaftNodeStoppedError);
  });

  it('time out a proposal the cluster cannot commit, saying the outcome is unknown', async () => {
    cluster = await LocalCluster.start({ nodeOptions: { proposalTimeoutMs: 200, checkQuorum: false } });
    const leader = await cluster.waitForLeader();
    for (const f of cluster.followers(leader)) cluster.isolated.add(f.id);
    const err = await leader.propose(kv('lost', '1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposalTimeoutError);
    expect((err as Error).message).toMatch(/may still take effect later/);
  });

  it('reject pending proposals when stopped', async () => {
    cluster = await LocalCluster.start({ nodeOptions: { checkQuorum: false } });
    const leader = await cluster.waitForLeader();
    for (const f of cluster.followers(leader)) cluster.isolated.add(f.id);
    const p = leader.propose(kv('pending', '1')).catch((e: unknown) => e);
    await leader.stop();
    expect(await p).toBeInstanceOf(RaftNodeStoppedError);
  });

  it('refuse to start on a data directory another node holds', async () => {
    cluster = await LocalCluster.start();
    const dir = cluster.dataDirs.get('n1')!;
    await expect(
      RaftNode.start({ id: 'n1', dataDir: dir, stateMachine: new KvStateMachine(), transport: { send: () => {} } }),
    ).rejects.toThrow(/is in use by another Skep process/);
  });
});
