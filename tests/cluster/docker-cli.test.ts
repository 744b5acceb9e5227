// The `skep` CLI behaves as Docker's does (issue 13): every case runs the real built CLI against
// real daemons and compares what it prints with Docker's text or shape (fixtures/docker-texts.ts,
// each citing where Docker has it). Table-driven: one row per command line.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, expectOk, managerCounts, waitUntil, type CliResult, type SkepNode } from './harness.js';
import { DOCKER, HELP_NODE_LS, NODE_INSPECT_KEYS, NODE_LS_HEADER, NODE_LS_JSON_KEYS } from './fixtures/docker-texts.js';

interface Case {
  readonly name: string;
  readonly args: () => string[];
  /** Node whose daemon the CLI talks to (default: the first manager). */
  readonly via?: () => SkepNode;
  readonly stdin?: string;
  readonly expect: (result: CliResult) => void;
}

function refusedWith(text: string): (result: CliResult) => void {
  return (result) => expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 1, stdout: '', stderr: text });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** Runs the CLI copy with a chosen environment (SKEP_HOST instead of -H). */
function runWithEnv(cli: string, args: readonly string[], env: Record<string, string>): CliResult {
  const result = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('the CLI as Docker has it', () => {
  const cluster = new Cluster({ subnet: 113, heartbeatMs: 500 });
  let m1: SkepNode, m2: SkepNode, m3: SkepNode, w1: SkepNode, spare: SkepNode;
  const servers: net.Server[] = [];
  const cli = (): string => path.join(cluster.root, 'skep.mjs');

  beforeAll(async () => {
    [m1, m2, m3, w1, spare] = (await cluster.add(5)) as [SkepNode, SkepNode, SkepNode, SkepNode, SkepNode];
    await cluster.init(m1);
    await cluster.join(m2, 'manager', m1);
    await cluster.join(m3, 'manager', m1);
    await cluster.join(w1, 'worker', m1);
    await cluster.waitForNodes(m1, 'three reachable managers and a ready worker', (nodes) => {
      const counts = managerCounts(nodes);
      return counts.leaders === 1 && counts.reachable === 2 && counts.ready === 4;
    });
  }, 180_000);

  afterAll(async () => {
    for (const server of servers) server.close();
    await cluster.cleanup();
  }, 60_000);

  async function runCase(c: Case): Promise<void> {
    const result = await (c.via?.() ?? m1).cliWith(c.stdin === undefined ? {} : { stdin: c.stdin }, ...c.args());
    try {
      c.expect(result);
    } catch (error) {
      throw new Error(`skep ${c.args().join(' ')}\nstdout: ${result.stdout}\nstderr: ${result.stderr}\n${(error as Error).message}`);
    }
  }

  const listing: Case[] = [
    {
      name: 'node ls: Docker\'s default table, the "*" on this node',
      args: () => ['node', 'ls'],
      expect: (r) => {
        const [header, ...rows] = lines(r.stdout);
        expect(header).toMatch(NODE_LS_HEADER);
        expect(rows).toHaveLength(4);
        expect(rows.filter((row) => row.startsWith(`${m1.id} *`))).toHaveLength(1);
        // A worker's MANAGER STATUS cell is empty but still padded, as Go's tabwriter pads it.
        expect(rows.find((row) => row.startsWith(w1.id))).toMatch(/ {3}Ready {5}Active {26}$/);
      },
    },
    {
      name: 'node ls --format json: one flat object per line with Docker\'s keys (formatter.go)',
      args: () => ['node', 'ls', '--format', 'json'],
      expect: (r) => {
        const objects = lines(r.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(objects).toHaveLength(4);
        for (const object of objects) expect(Object.keys(object)).toEqual(NODE_LS_JSON_KEYS);
        expect(objects.filter((o) => o['Self'] === true).map((o) => o['ID'])).toEqual([m1.id]);
        expect(objects.find((o) => o['ID'] === m1.id)).toMatchObject({ ManagerStatus: 'Leader', Status: 'Ready', Availability: 'Active', TLSStatus: 'Ready' });
        expect(objects.find((o) => o['ID'] === w1.id)).toMatchObject({ ManagerStatus: '', Self: false });
      },
    },
    {
      name: 'node ls --format with a Go template (node-list-format-flag.golden\'s)',
      args: () => ['node', 'ls', '--format', '{{.ID}}: {{.ManagerStatus}}'],
      expect: (r) => expect(lines(r.stdout).sort()).toEqual([`${m1.id}: Leader`, `${m2.id}: Reachable`, `${m3.id}: Reachable`, `${w1.id}: `].sort()),
    },
    {
      name: 'node ls --format "table …\\t…": Docker\'s header names, tab-aligned',
      args: () => ['node', 'ls', '--format', 'table {{.ID}}\\t{{.TLSStatus}}\\t{{upper .Availability}}'],
      expect: (r) => {
        const [header, ...rows] = lines(r.stdout);
        expect(header).toBe(`ID${' '.repeat(m1.id.length + 1)}TLS STATUS   AVAILABILITY`);
        expect(rows.sort()).toEqual([m1, m2, m3, w1].map((n) => `${n.id}   Ready        ACTIVE`).sort());
      },
    },
    {
      name: 'node ls -q: IDs only',
      args: () => ['node', 'ls', '-q'],
      expect: (r) => expect(lines(r.stdout).sort()).toEqual([m1, m2, m3, w1].map((n) => n.id).sort()),
    },
    {
      name: 'node ls -f role=manager / role=worker / membership=accepted / id=PREFIX / name=nomatch',
      args: () => ['node', 'ls', '-q', '-f', 'role=manager'],
      expect: (r) => expect(lines(r.stdout).sort()).toEqual([m1, m2, m3].map((n) => n.id).sort()),
    },
    { name: 'node ls -f role=worker', args: () => ['node', 'ls', '-q', '-f', 'role=worker'], expect: (r) => expect(r.stdout).toBe(`${w1.id}\n`) },
    { name: 'node ls -f membership=accepted', args: () => ['node', 'ls', '-q', '-f', 'membership=accepted'], expect: (r) => expect(lines(r.stdout)).toHaveLength(4) },
    { name: 'node ls -f id=PREFIX', args: () => ['node', 'ls', '-q', '-f', `id=${w1.id.slice(0, 6)}`], expect: (r) => expect(r.stdout).toBe(`${w1.id}\n`) },
    { name: 'node ls -f name=nomatch prints the header only', args: () => ['node', 'ls', '-f', 'name=nomatch'], expect: (r) => expect(lines(r.stdout)).toHaveLength(1) },
    { name: 'node ls -f label=… filters engine labels (none here)', args: () => ['node', 'ls', '-q', '-f', 'label=zone'], expect: (r) => expect(r.stdout).toBe('') },
    { name: 'node ls -f role (no "=")', args: () => ['node', 'ls', '-f', 'role'], expect: refusedWith(DOCKER.filterFormat.text) },
    { name: 'node ls -f bogus=1', args: () => ['node', 'ls', '-f', 'bogus=1'], expect: refusedWith(DOCKER.invalidFilter.text) },
    { name: 'node ls -f role=chief', args: () => ['node', 'ls', '-f', 'role=chief'], expect: refusedWith(DOCKER.invalidRoleFilter.text) },
  ];

  const inspect: Case[] = [
    {
      name: 'node inspect: swarm.Node\'s shape, indented by four spaces',
      args: () => ['node', 'inspect', 'self'],
      expect: (r) => {
        expect(r.stdout).toMatch(/^\[\n {4}\{\n {8}"ID": /);
        const [node] = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>[];
        expect(Object.keys(node ?? {})).toEqual(NODE_INSPECT_KEYS.node);
        expect(Object.keys(node?.['Spec'] ?? {})).toEqual(NODE_INSPECT_KEYS.spec);
        expect(Object.keys(node?.['Description'] ?? {})).toEqual(NODE_INSPECT_KEYS.description);
        expect(Object.keys(node?.['ManagerStatus'] ?? {})).toEqual(NODE_INSPECT_KEYS.managerStatus);
        expect(node?.['Spec']).toMatchObject({ Role: 'manager', Availability: 'active' });
        expect(node?.['Version']?.['Index']).toBeGreaterThan(0);
        expect(node?.['Status']).toMatchObject({ State: 'ready', Addr: m1.ip });
        expect(node?.['ManagerStatus']).toEqual({ Leader: true, Reachability: 'reachable', Addr: m1.addr });
      },
    },
    {
      name: 'node inspect --format: fields, json, and a follower\'s ManagerStatus without "Leader"',
      args: () => ['node', 'inspect', '--format', '{{.Spec.Role}} {{json .Spec.Labels}} {{json .ManagerStatus}}', m2.id, w1.id],
      expect: (r) => expect(r.stdout).toBe(`manager {} {"Reachability":"reachable","Addr":"${m2.addr}"}\nworker {} null\n`),
    },
    {
      name: 'node inspect --pretty: Docker\'s human format',
      args: () => ['node', 'inspect', '--pretty', 'self'],
      expect: (r) => {
        const text = lines(r.stdout);
        expect(text[0]).toBe(`ID:\t\t\t${m1.id}`);
        expect(text).toContain(' State:\t\t\tReady');
        expect(text).toContain('Manager Status:');
        expect(text).toContain(' Leader:\t\tYes');
        expect(text).toContain(` Address:\t\t${m1.addr}`);
      },
    },
    { name: 'node inspect -f "pretty …"', args: () => ['node', 'inspect', '-f', 'pretty {{.ID}}', 'self'], expect: refusedWith(DOCKER.prettyWithFormat.text) },
    {
      name: 'node inspect of a node that isn\'t there: what was found is printed, exit 1',
      args: () => ['node', 'inspect', '-f', '{{.ID}}', 'self', 'nope'],
      expect: (r) => expect(r).toEqual({ code: 1, stdout: `${m1.id}\n`, stderr: DOCKER.nodeNotFound.text }),
    },
  ];

  const labels: Case[] = [
    {
      name: 'labels with spaces in keys and values are accepted, as Docker\'s',
      args: () => ['node', 'update', '--label-add', 'my key=a value with = signs', '--label-add', 'flag', w1.id],
      expect: (r) => expect(r).toEqual({ code: 0, stdout: `${w1.id}\n`, stderr: '' }),
    },
    {
      name: 'and read back through a template',
      args: () => ['node', 'inspect', '-f', '{{json .Spec.Labels}}|{{index .Spec.Labels "my key"}}', w1.id],
      expect: (r) => expect(r.stdout).toBe('{"flag":"","my key":"a value with = signs"}|a value with = signs\n'),
    },
    { name: 'node ls -f node.label=flag', args: () => ['node', 'ls', '-q', '-f', 'node.label=flag'], expect: (r) => expect(r.stdout).toBe(`${w1.id}\n`) },
    { name: '--label-rm of a missing key', args: () => ['node', 'update', '--label-rm', 'nope', w1.id], expect: refusedWith(DOCKER.labelRmMissing.text) },
    { name: '--label-add with an empty key', args: () => ['node', 'update', '--label-add', '=v', w1.id], expect: refusedWith(DOCKER.labelEmptyKey.text) },
    {
      name: 'labels past the stated bound are refused with a message naming it',
      args: () => ['node', 'update', '--label-add', `big=${'x'.repeat(40_000)}`, '--label-add', `bigger=${'y'.repeat(30_000)}`, w1.id],
      expect: (r) => {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^the labels of node \S+ would take 70009 bytes; a node's labels \(keys and values together\) may take at most 65536 bytes\./);
      },
    },
    {
      name: 'a large label within the bound is accepted',
      args: () => ['node', 'update', '--label-add', `a=${'x'.repeat(40_000)}`, w1.id],
      expect: (r) => expect(r).toEqual({ code: 0, stdout: `${w1.id}\n`, stderr: '' }),
    },
    {
      name: 'one more that takes the node past the bound is refused by the daemon, naming the bound',
      args: () => ['node', 'update', '--label-add', `b=${'x'.repeat(40_000)}`, w1.id],
      expect: (r) => expect(r.stderr).toMatch(/^Error response from daemon: the labels of node \S+ would take \d+ bytes; .* at most 65536 bytes\./),
    },
    { name: '--label-rm of keys that exist', args: () => ['node', 'update', '--label-rm', 'a', '--label-rm', 'flag', w1.id], expect: (r) => expect(r.code).toBe(0) },
  ];

  const joining: Case[] = [
    { name: 'join with an empty token', via: () => spare, args: () => ['swarm', 'join', '--token', '', m1.addr], expect: refusedWith(DOCKER.emptyToken.text) },
    {
      name: 'join with --token-file /nonexistent names the file and what to do',
      via: () => spare,
      args: () => ['swarm', 'join', '--token-file', '/nonexistent', m1.addr],
      expect: refusedWith('could not read the join token from /nonexistent: no such file. Save it there with "skep swarm join-token -q worker > FILE" on a manager, or pass it with --token-stdin.\n'),
    },
  ];

  const usage: Case[] = [
    { name: 'an unknown flag: the usage line, exit 125', args: () => ['node', 'ls', '--bogus'], expect: (r) => expect(r).toEqual({ code: 125, stdout: '', stderr: DOCKER.unknownFlag.text }) },
    { name: 'a missing argument', args: () => ['node', 'inspect'], expect: refusedWith(DOCKER.requiresAtLeast.text) },
    { name: 'an argument too many', args: () => ['node', 'ls', 'extra'], expect: refusedWith(DOCKER.acceptsNoArguments.text) },
  ];

  test.each([...listing, ...inspect, ...labels, ...joining, ...usage])('$name', runCase);

  test('join errors name the address: refused, not Skep, nothing answering', async () => {
    const token = await cluster.token(m1, 'worker');
    const refusedAddr = '127.0.113.90:1';
    const refused = await spare.cliWith({ stdin: token }, 'swarm', 'join', '--token-stdin', '--listen-addr', spare.addr, refusedAddr);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: ${refusedAddr} refused the connection: nothing listens on that port. Check the port (a swarm's default is 2377) and that the manager runs "skep daemon".\n` });

    // A web server where the manager should be: OpenSSL's "wrong version number" must not show.
    const http = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.113.91', resolve));
    const httpAddr = `127.0.113.91:${(http.address() as net.AddressInfo).port}`;
    const notSkep = await spare.cliWith({ stdin: token }, 'swarm', 'join', '--token-stdin', '--listen-addr', spare.addr, httpAddr);
    expect(notSkep.stderr).toBe(`Error response from daemon: ${httpAddr} answered, but not as a Skep swarm manager (it does not speak Skep's TLS). Check that it is the manager's cluster address, as "skep swarm join-token" prints it.\n`);

    // A port that accepts TCP and then says nothing: a TLS handshake that never comes is "not Skep".
    const silent = net.createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.113.92', resolve));
    const silentAddr = `127.0.113.92:${(silent.address() as net.AddressInfo).port}`;
    const quiet = await spare.cliWith({ stdin: token }, 'swarm', 'join', '--token-stdin', '--listen-addr', spare.addr, silentAddr);
    expect(quiet.stderr).toMatch(/answered, but not as a Skep swarm manager/);
    expect(await spare.status()).toEqual({ state: 'inactive' });
  });

  test('join to an address whose TCP never connects says nothing answered (not "no TLS handshake")', async () => {
    // A listener with a backlog of one in a stopped process: once its queue is full, SYNs go unanswered.
    const holder: ChildProcess = spawn(process.execPath, ['-e', "require('net').createServer().listen({host:'127.0.113.93',port:0,backlog:1},function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fillers: net.Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) => holder.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
      process.kill(holder.pid as number, 'SIGSTOP');
      const address = `127.0.113.93:${port}`;
      // Fill the accept queue until a connection no longer completes.
      for (let i = 0; i < 16; i++) {
        const socket = net.connect({ host: '127.0.113.93', port });
        fillers.push(socket);
        const connected = await new Promise<boolean>((resolve) => {
          socket.once('connect', () => resolve(true));
          socket.once('error', () => resolve(false));
          setTimeout(() => resolve(false), 1000);
        });
        if (!connected) break;
      }
      const token = await cluster.token(m1, 'worker');
      const result = await spare.cliWith({ stdin: token }, 'swarm', 'join', '--token-stdin', '--listen-addr', spare.addr, address);
      expect(result.stderr).toBe(`Error response from daemon: nothing answered at ${address} within 10 s: no TCP connection could be made. Check the address, that the machine is on, and that no firewall blocks the port.\n`);
    } finally {
      for (const socket of fillers) socket.destroy();
      if (holder.pid !== undefined && holder.exitCode === null) {
        process.kill(holder.pid, 'SIGCONT');
        holder.kill('SIGKILL');
      }
    }
  });

  test('SKEP_HOST works like DOCKER_HOST: a socket path or unix:// URL; other schemes are named and refused', () => {
    const socketPath = m1.control.replace(/^unix:\/\//, '');
    expect(runWithEnv(cli(), ['node', 'ls', '-q', '-f', 'role=worker'], { SKEP_HOST: m1.control }).stdout).toBe(`${w1.id}\n`);
    expect(runWithEnv(cli(), ['node', 'ls', '-q', '-f', 'role=worker'], { SKEP_HOST: socketPath }).stdout).toBe(`${w1.id}\n`);
    expect(runWithEnv(cli(), ['node', 'ls'], { SKEP_HOST: 'tcp://127.0.0.1:2375' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'unsupported daemon address "tcp://127.0.0.1:2375" (from -H or SKEP_HOST): give the daemon\'s control socket as a path or unix:///PATH.\n',
    });
  });

  test('skep version: client and daemon in Docker\'s layout; without a daemon, the client part and the error', async () => {
    const version = expectOk(await m1.cli('version'), 'version');
    expect(version.stdout).toMatch(/^Client:\n Version: {11}\S+\n Node\.js version: {3}v\d+\.\d+\.\d+\n OS\/Arch: {11}\w+\/\w+\n Host: {14}unix:\/\/\S+\n\nServer:\n Skep:\n {2}Version: {10}\S+\n/);
    expect(version.stdout).toContain('\n Docker Engine:\n  Version:');
    const dead = `unix://${path.join(cluster.root, 'nobody.sock')}`;
    const alone = runWithEnv(cli(), ['version'], { SKEP_HOST: dead });
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(/^Client:\n/);
    expect(alone.stdout).not.toContain('Server:');
    expect(alone.stderr).toBe(`Cannot connect to the Skep daemon at ${dead}. Is the skep daemon running? Start it with "skep daemon".\n`);
  });

  test('--help in Docker\'s layout for every command', async () => {
    const nodeLs = expectOk(await m1.cli('node', 'ls', '--help'), 'node ls --help');
    expect(nodeLs.stdout.startsWith(HELP_NODE_LS.text)).toBe(true);
    const commands = [['swarm'], ['node'], ['swarm', 'init'], ['swarm', 'join'], ['swarm', 'leave'], ['swarm', 'join-token'], ['swarm', 'status'], ['node', 'inspect'], ['node', 'promote'], ['node', 'demote'], ['node', 'rm'], ['node', 'update'], ['version'], ['completion'], ['daemon'], ['ui'], ['info']];
    for (const command of commands) {
      const help = expectOk(await m1.cli(...command, '--help'), `${command.join(' ')} --help`);
      expect(help.stdout, command.join(' ')).toMatch(new RegExp(`^Usage:  skep ${command.join(' ')}( \\S.*)?\\n\\n\\S`));
      if (command.length === 1 && ['swarm', 'node'].includes(command[0] as string)) {
        expect(help.stdout).toMatch(/\nCommands:\n/);
        expect(help.stdout).toMatch(new RegExp(`\\nRun 'skep ${command[0]} COMMAND --help' for more information on a command\\.\\n$`));
      }
    }
    expect(expectOk(await m1.cli('node', 'rm', '--help'), 'rm').stdout).toContain('Aliases:\n  skep node rm, skep node remove\n');
  });

  test('skep completion bash completes commands and node names in a real bash', async () => {
    const bin = path.join(cluster.root, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    const wrapper = path.join(bin, 'skep');
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${cli()}" -H "${m1.control}" "$@"\n`);
    chmodSync(wrapper, 0o755);
    const complete = (words: string[]): string => {
      const script = `source <(skep completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _skep; echo "\${COMPREPLY[*]}"`;
      const result = spawnSync('bash', ['-c', script], { env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8', timeout: 30_000 });
      return result.stdout.trim();
    };
    expect(complete(['skep', 'no'])).toBe('node');
    expect(complete(['skep', 'node', 'l'])).toBe('ls list');
    expect(complete(['skep', 'node', 'ls', '--f'])).toBe('--filter --format');
    expect(complete(['skep', 'swarm', 'join-token', '--r'])).toBe('--rotate');
    // Node arguments come from the daemon (this machine's hostname, for every node here).
    const hostname = (await m1.nodes())[0]?.description.hostname ?? '';
    expect(complete(['skep', 'node', 'inspect', hostname.slice(0, 1)]).split(' ')).toContain(hostname);
    for (const shell of ['zsh', 'fish']) expect(expectOk(await m1.cli('completion', shell), shell).stdout).toMatch(shell === 'zsh' ? /^#compdef skep\n/ : /^# fish completion for skep/);
    expect(await m1.cli('completion', 'powershell')).toEqual({ code: 1, stdout: '', stderr: 'unsupported shell "powershell": use bash, zsh or fish\n' });
  });

  test('a manager leaving a healthy swarm without --force is refused as Docker refuses it; nothing changes', async () => {
    const result = await m2.cli('swarm', 'leave');
    refusedWith(DOCKER.leaveManager.text)(result);
    expect(await m2.status()).toMatchObject({ state: 'active', role: 'manager', managers: 3 });
  });

  test('reads on a manager without a leader fail with the no-leader text; the status (the window\'s view) still answers', async () => {
    await m2.stop();
    await m3.stop();
    const result = await waitUntil('node ls on m1 to fail without a leader', async () => {
      const r = await m1.cli('node', 'ls');
      return r.code === 1 ? r : undefined;
    });
    refusedWith(DOCKER.noLeader.text)(result);
    // inspect prints what it found (nothing: "[]", as Docker's jsonInspector does) and the error.
    expect(await m1.cli('node', 'inspect', 'self')).toEqual({ code: 1, stdout: '[]\n', stderr: DOCKER.noLeader.text });
    expect(await m1.status()).toMatchObject({ state: 'active', role: 'manager', leaderId: null });
  });
});
