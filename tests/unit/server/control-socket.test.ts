// The control socket against another local user: a real second user (useradd, removed afterwards)
// squats the socket's directory or plants a socket of its own, as a real process; the daemon
// refuses such a place and the CLI's client sends nothing to a socket it did not get from its
// own user or root. Then the socket's own bounds: callers that never read, and too many callers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import { connectControl } from '../../../electron/cli/control-client.js';
import { describeError } from '../../../electron/cli/output.js';
import { MAX_CONTROL_CONNECTIONS, startControlServer, type ControlServer } from '../../../electron/server/control-socket.js';
import { SkepDaemon } from '../../../electron/node/daemon.js';

const run = randomBytes(4).toString('hex');
/** Making a second user takes root (as in CI); elsewhere those tests say why they don't run. */
const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('control socket: the squatter tests need root to create a second user with useradd; not run as uid', process.getuid?.());
const squatterName = `skepsq${run}`;
let squatter: { uid: number; gid: number };
let workDir: string;
let service: SkepDaemon;
const children: ChildProcess[] = [];
const servers: ControlServer[] = [];

beforeAll(async () => {
  if (asRoot) {
    // -M: no home; the user exists only for this file and is removed by name in afterAll.
    execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', squatterName]);
    squatter = {
      uid: Number(execFileSync('id', ['-u', squatterName]).toString().trim()),
      gid: Number(execFileSync('id', ['-g', squatterName]).toString().trim()),
    };
  }
  workDir = mkdtempSync(path.join(os.tmpdir(), 'skep-ctl-'));
  service = new SkepDaemon({ dataDir: path.join(workDir, 'data'), engine: { host: `unix://${path.join(workDir, 'no-docker.sock')}` } });
  await service.start();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const server of servers) await server.close();
  await service.stop();
  rmSync(workDir, { recursive: true, force: true });
  for (const dir of squattedDirs) rmSync(dir, { recursive: true, force: true });
  if (asRoot) execFileSync('userdel', [squatterName]);
});

const squattedDirs: string[] = [];

/** A directory under /tmp made by the squatter, writable by everyone, as a squatter would leave it. */
function squattedDir(): string {
  const dir = path.join(os.tmpdir(), `skep-squat-${run}-${squattedDirs.length}`);
  squattedDirs.push(dir);
  execFileSync('mkdir', ['-m', '0777', dir], { uid: squatter.uid, gid: squatter.gid });
  return dir;
}

/** A real process of the squatter listening on `socketPath`, reporting every connection and byte. */
async function squatterListener(socketPath: string): Promise<{ output: () => string }> {
  const script = `
    const net = require('node:net'), fs = require('node:fs');
    const server = net.createServer((s) => { console.log('connection'); s.on('data', (d) => console.log('received ' + d.length + ' bytes')); });
    server.listen(process.argv[1], () => { fs.chmodSync(process.argv[1], 0o777); console.log('listening'); });`;
  const child = spawn(process.execPath, ['-e', script, socketPath], { uid: squatter.uid, gid: squatter.gid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (output.includes('listening')) {
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`the squatter's listener exited: ${output}`));
      }
    }, 20);
  });
  return { output: () => output };
}

async function refusal(promise: Promise<unknown>): Promise<SkepError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SkepError);
    return error as SkepError;
  }
  throw new Error('expected a refusal');
}

const TOKEN = 'SKEP-1-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab-abcdefghijklmnopqrstuvwxy';

describe('the daemon side', () => {
  it.skipIf(!asRoot)('refuses a directory another user made, and creates nothing in it', async () => {
    const dir = squattedDir();
    const socketPath = path.join(dir, 'skep', 'skep.sock');
    const e = await refusal(startControlServer(`unix://${socketPath}`, service));
    expect(e.code).toBe('CONTROL_SOCKET_UNSAFE');
    expect(e.message).toContain(`${dir} belongs to user ${squatter.uid}, not to you`);
    expect(() => statSync(path.join(dir, 'skep'))).toThrow(/ENOENT/);
  });

  it('refuses a directory of its own that other users may write', async () => {
    const dir = path.join(workDir, 'loose');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const e = await refusal(startControlServer(`unix://${path.join(dir, 'skep.sock')}`, service));
    expect(e.message).toContain(`other users may write to ${dir} (mode 0777)`);
  });

  it('makes a missing directory private (0700) and the socket 0600, and answers there', async () => {
    const socketPath = path.join(workDir, 'run', 'skep', 'skep.sock');
    const server = await startControlServer(`unix://${socketPath}`, service);
    servers.push(server);
    expect(statSync(path.dirname(socketPath)).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(workDir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const client = connectControl(`unix://${socketPath}`);
    try {
      expect((await client.getSwarmStatus()).state).toBe('inactive');
    } finally {
      client.close();
    }
  });
});

describe('the CLI side', () => {
  it.skipIf(!asRoot)('sends no join token to a socket planted by another user, in its directory or in /tmp itself', async () => {
    const inTheirDir = path.join(squattedDir(), 'skep.sock');
    const inSharedTmp = path.join(os.tmpdir(), `skep-squat-${run}.sock`);
    squattedDirs.push(inSharedTmp);
    for (const socketPath of [inTheirDir, inSharedTmp]) {
      const listener = await squatterListener(socketPath);
      const client = connectControl(`unix://${socketPath}`);
      try {
        const e = await refusal(client.swarmJoin({ remoteAddr: '127.0.0.1:1', token: TOKEN }));
        expect(e.code).toBe('CONTROL_SOCKET_UNSAFE');
        // What the CLI prints: the catalog's text, not a daemon's answer.
        expect(describeError(e)).toMatch(/^refusing to use the control socket /);
        expect(describeError(e)).not.toContain(TOKEN);
      } finally {
        client.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Not even a connection: the squatter learned nothing, not even that we tried.
      expect(listener.output()).not.toMatch(/connection|received/);
    }
  });

  it('says the daemon is unreachable, without connecting, when the socket is missing', async () => {
    const client = connectControl(`unix://${path.join(workDir, 'nothing-here.sock')}`);
    try {
      expect((await refusal(client.getSwarmStatus())).code).toBe('DAEMON_UNREACHABLE');
    } finally {
      client.close();
    }
  });
});

describe('bounds of the control socket', () => {
  let socketPath: string;
  beforeAll(async () => {
    socketPath = path.join(workDir, 'bounded', 'skep.sock');
    servers.push(await startControlServer(`unix://${socketPath}`, service));
  });

  function connect(): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
    });
  }

  it('stops reading from a caller that never reads its replies, then serves it all', async () => {
    const socket = await connect();
    try {
      socket.pause();
      // ~3 MiB of calls whose replies (~4 MiB) are more than the daemon's 1 MiB pause mark plus
      // what the kernel's socket buffers hold.
      const calls = 60_000;
      const line = (id: number): string => JSON.stringify({ id, method: 'getSwarmStatus', params: [] }) + '\n';
      let batch = '';
      for (let id = 1; id <= calls; id++) batch += line(id);
      socket.write(batch);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      // The daemon stopped taking calls once its replies backed up: the rest still waits on our side.
      const waiting = socket.writableLength;
      expect(waiting).toBeGreaterThan(0);
      let text = '';
      let replies = 0;
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        let newline: number;
        while ((newline = text.indexOf('\n')) >= 0) {
          if (text.slice(0, newline).includes('"ok":true')) replies++;
          text = text.slice(newline + 1);
        }
      });
      socket.resume();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (replies === calls) {
            clearInterval(check);
            resolve();
          }
        }, 20);
      });
      console.log(`control socket: ${calls} calls (${batch.length} bytes) pipelined without reading; after 1 s the daemon had stopped taking them (our write still had ${waiting} bytes pending)`);
      expect(replies).toBe(calls);
    } finally {
      socket.destroy();
    }
  }, 90_000);

  it(`closes connections past ${MAX_CONTROL_CONNECTIONS}`, async () => {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < MAX_CONTROL_CONNECTIONS + 20; i++) {
      const socket = await connect();
      socket.on('error', () => {});
      sockets.push(socket);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open');
    // Each socket that was over the limit sees its end; reading makes the close visible.
    for (const s of sockets) s.resume();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    console.log(`control socket: ${sockets.length} connections tried, ${stillOpen} kept (${open.length} looked open before reading)`);
    expect(stillOpen).toBe(MAX_CONTROL_CONNECTIONS);
    for (const s of sockets) s.destroy();
  });
});
