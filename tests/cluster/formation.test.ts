// Scenario 1: init; two managers and two workers join; `node ls` shows 1 Leader, 2 Reachable, 5 Ready.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { skepError } from '../../shared/errors.js';
import type { SwarmNode } from '../../shared/types.js';
import { Cluster, daemonErrorLine, expectOk, managerCounts, type SkepNode } from './harness.js';

describe('forming a swarm of 3 managers and 2 workers', () => {
  const cluster = new Cluster({ subnet: 31, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode, w1: SkepNode, w2: SkepNode;

  beforeAll(async () => {
    [m1, m2, m3, w1, w2] = (await cluster.add(5)) as [SkepNode, SkepNode, SkepNode, SkepNode, SkepNode];
  }, 120_000);
  afterAll(() => cluster.cleanup(), 60_000);

  test('swarm init prints the node ID and the worker join command', async () => {
    const result = await cluster.init(m1);
    const workerToken = await cluster.token(m1, 'worker');
    expect(result.stdout).toBe(
      [
        `Swarm initialized: current node (${m1.id}) is now a manager.`,
        '',
        'To add a worker to this swarm, run the following command:',
        '',
        `    skep swarm join --token ${workerToken} ${m1.addr}`,
        '',
        "To add a manager to this swarm, run 'skep swarm join-token manager' and follow the instructions.",
        '',
      ].join('\n'),
    );
    expect(workerToken).toMatch(/^SKEP-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  });

  test('two managers and two workers join (token from stdin, from a file and in argv)', async () => {
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    // --token in argv and --token-file work too.
    const workerToken = await cluster.token(m1, 'worker');
    const joined = expectOk(await w1.cli('swarm', 'join', '--token', workerToken, '--listen-addr', w1.addr, m1.addr), 'join w1');
    expect(joined.stdout).toBe('This node joined a swarm as a worker.\n');
    w1.id = ((await w1.status()) as { nodeId: string }).nodeId;
    const { writeFileSync } = await import('node:fs');
    const file = `${cluster.root}/worker-token`;
    writeFileSync(file, workerToken + '\n', { mode: 0o600 });
    expectOk(await w2.cli('swarm', 'join', '--token-file', file, '--listen-addr', w2.addr, m2.addr), 'join w2 through a follower');
    w2.id = ((await w2.status()) as { nodeId: string }).nodeId;
    expect(new Set([m1.id, m2.id, m3.id, w1.id, w2.id]).size).toBe(5);
  });

  test('node ls shows 1 Leader, 2 Reachable, 5 Ready (JSON and table)', async () => {
    const nodes: SwarmNode[] = await cluster.waitForNodes(m1, '1 leader, 2 reachable, 5 ready', (list) => {
      const c = managerCounts(list);
      return list.length === 5 && c.leaders === 1 && c.reachable === 2 && c.ready === 5;
    });
    const leader = await cluster.waitForLeader([m1, m2, m3]);

    // Docker's shape: one flat object per line (docker/cli cli/command/node/formatter.go).
    const json = expectOk(await m1.cli('node', 'ls', '--format', 'json'), 'node ls --format json');
    const listed = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { ID: string; Status: string; ManagerStatus: string; Self: boolean });
    expect(listed.map((n) => n.ID).sort()).toEqual(nodes.map((n) => n.id).sort());
    expect(listed.filter((n) => n.Status === 'Ready')).toHaveLength(5);
    expect(listed.filter((n) => n.Self).map((n) => n.ID)).toEqual([m1.id]);
    for (const m of [m1, m2, m3]) expect(listed.find((x) => x.ID === m.id)?.ManagerStatus).toBe(m === leader ? 'Leader' : 'Reachable');
    for (const w of [w1, w2]) expect(listed.find((x) => x.ID === w.id)?.ManagerStatus).toBe('');
    // Roles and addresses, from Docker's node object.
    const inspected = JSON.parse(expectOk(await m1.cli('node', 'inspect', ...[m1, m2, m3, w1, w2].map((n) => n.id)), 'node inspect').stdout) as {
      ID: string; Spec: { Role: string }; Status: { Addr: string }; ManagerStatus?: { Leader?: boolean; Addr: string };
    }[];
    for (const m of [m1, m2, m3]) {
      const n = inspected.find((x) => x.ID === m.id);
      expect(n?.Spec.Role).toBe('manager');
      expect(n?.ManagerStatus?.Leader === true).toBe(m === leader);
      expect(n?.ManagerStatus?.Addr).toBe(m.addr);
    }
    for (const w of [w1, w2]) {
      const n = inspected.find((x) => x.ID === w.id);
      expect(n?.Spec.Role).toBe('worker');
      expect(n?.ManagerStatus).toBeUndefined();
      expect(n?.Status.Addr).toBe(w.ip);
    }

    const table = expectOk(await m2.cli('node', 'ls'), 'node ls').stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^ID\s+HOSTNAME\s+STATUS\s+AVAILABILITY\s+MANAGER STATUS\s+ENGINE VERSION$/);
    const rows = table.slice(1);
    expect(rows).toHaveLength(5);
    const row = (node: SkepNode): string => {
      const found = rows.find((r) => r.startsWith(node.id));
      if (!found) throw new Error(`no row for ${node.name} in:\n${table.join('\n')}`);
      return found;
    };
    // The node the CLI talks to is marked with *.
    expect(row(m2).startsWith(`${m2.id} *`)).toBe(true);
    expect(rows.filter((r) => /^\S+ \*/.test(r))).toHaveLength(1);
    for (const m of [m1, m2, m3]) expect(row(m)).toMatch(new RegExp(`\\sReady\\s+Active\\s+${m === leader ? 'Leader' : 'Reachable'}(\\s|$)`));
    for (const w of [w1, w2]) expect(row(w)).toMatch(/\sReady\s+Active\s*$/);
    expect(rows.filter((r) => /\sLeader(\s|$)/.test(r))).toHaveLength(1);
    expect(rows.filter((r) => /\sReachable(\s|$)/.test(r))).toHaveLength(2);
    expect(rows.filter((r) => /\sReady\s/.test(r))).toHaveLength(5);

    const quiet = expectOk(await m3.cli('node', 'ls', '-q'), 'node ls -q').stdout.trim().split('\n').sort();
    expect(quiet).toEqual([m1.id, m2.id, m3.id, w1.id, w2.id].sort());
  });

  test('swarm status --format json: the Raft view with 3 reachable voters', async () => {
    const leader = await cluster.waitForLeader([m1, m2, m3]);
    const status = JSON.parse(expectOk(await leader.cli('swarm', 'status', '--format', 'json'), 'swarm status').stdout) as {
      state: string; nodeId: string; role: string; managers: number; reachableManagers: number; nodes: number; readyNodes: number; leaderId: string;
      raft: { term: number; leaderId: string; commitIndex: number; appliedIndex: number; members: { nodeId: string; addr: string; role: string; reachable: boolean; matchIndex: number | null; lag: number | null }[] };
    };
    expect(status).toMatchObject({ state: 'active', nodeId: leader.id, role: 'manager', managers: 3, reachableManagers: 3, nodes: 5, readyNodes: 5, leaderId: leader.id });
    expect(status.raft.leaderId).toBe(leader.id);
    expect(status.raft.term).toBeGreaterThan(0);
    expect(status.raft.appliedIndex).toBeLessThanOrEqual(status.raft.commitIndex);
    expect(status.raft.members.map((m) => m.nodeId).sort()).toEqual([m1.id, m2.id, m3.id].sort());
    for (const member of status.raft.members) {
      expect(member.reachable).toBe(true);
      expect(member.addr).toBe(cluster.byId(member.nodeId)?.addr);
      expect(member.role).toBe(member.nodeId === leader.id ? 'leader' : 'follower');
      expect(member.matchIndex).not.toBeNull();
    }
    // A worker is active, but not a manager: it can't list nodes.
    const workerStatus = await w1.status();
    expect(workerStatus).toMatchObject({ state: 'active', role: 'worker', nodeId: w1.id });
  });

  test('a node is named by ID, unique ID prefix or hostname; ambiguous and unknown names are refused', async () => {
    const byId = JSON.parse(expectOk(await m1.cli('node', 'inspect', w1.id), 'inspect by ID').stdout) as { ID: string; Description: { Hostname: string } }[];
    expect(byId.map((n) => n.ID)).toEqual([w1.id]);
    const others = [m1, m2, m3, w2].map((n) => n.id);
    let length = 1;
    while (others.some((id) => id.startsWith(w1.id.slice(0, length)))) length++;
    const prefix = w1.id.slice(0, length);
    const byPrefix = JSON.parse(expectOk(await m1.cli('node', 'inspect', prefix), 'inspect by prefix').stdout) as { ID: string }[];
    expect(byPrefix.map((n) => n.ID)).toEqual([w1.id]);
    const pretty = expectOk(await m1.cli('node', 'inspect', '--pretty', 'self'), 'inspect --pretty self').stdout;
    expect(pretty).toContain(`ID:\t\t\t${m1.id}\n`);
    // Every daemon here runs on the same machine, so they share a hostname: naming it is ambiguous.
    const hostname = byId[0]?.Description.Hostname ?? '';
    expect(hostname).not.toBe('');
    // As Docker's inspect: what was found ("[]": nothing) on stdout, the refusal on stderr.
    expect(await m1.cli('node', 'inspect', hostname)).toEqual({ code: 1, stdout: '[]\n', stderr: daemonErrorLine(skepError('NODE_AMBIGUOUS', hostname, 5).message) });
    expect(await m1.cli('node', 'update', '--label-add', 'a=b', 'nosuchnode')).toEqual({ code: 1, stdout: '', stderr: daemonErrorLine(skepError('NODE_NOT_FOUND', 'nosuchnode').message) });
  });

  test('a worker restarted from its data directory comes back Ready by itself', async () => {
    await w2.stop();
    await cluster.waitForNodes(m1, 'the stopped worker Down', (nodes) => nodes.find((n) => n.id === w2.id)?.status.state === 'down');
    await w2.start();
    expect(await w2.status()).toMatchObject({ state: 'active', nodeId: w2.id, role: 'worker' });
    await cluster.waitForNodes(m1, 'the restarted worker Ready', (nodes) => nodes.find((n) => n.id === w2.id)?.status.state === 'ready');
  });
});
