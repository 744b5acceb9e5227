// The attack of issue 8 end to end, with the built `skep` and two real users made for this file
// (useradd; userdel afterwards): a user without XDG_RUNTIME_DIR gets the control socket under the
// temporary directory, where another user had made the directory first and listened in it. Now
// the victim's `skep swarm join` refuses to send its token there, and `skep daemon` refuses to
// start there; once the squatter's directory is gone, the daemon makes its own (0700).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUILT_CLI, waitUntil } from './harness.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('control socket squatting: needs root to create two users with useradd; not run as uid', process.getuid?.());

const run = randomBytes(4).toString('hex');
const names = { victim: `skepvi${run}`, squatter: `skepsq${run}` };
const ids = { victim: { uid: 0, gid: 0 }, squatter: { uid: 0, gid: 0 } };
let root = '';
let cli = '';
/** Plays /tmp for the victim (TMPDIR): root-owned, 1777, like the real one. */
let sharedTmp = '';
const children: ChildProcess[] = [];
let daemon: Started | undefined;

function idsOf(name: string): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', name]).toString().trim()),
    gid: Number(execFileSync('id', ['-g', name]).toString().trim()),
  };
}

/** The victim's environment: no XDG_RUNTIME_DIR, so the socket falls back under TMPDIR. */
function victimEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: path.join(root, 'victim-home'), TMPDIR: sharedTmp };
}

function runAsVictim(args: readonly string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { ...ids.victim, env: victimEnv(), cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

describe.skipIf(!asRoot)('a squatted control socket directory', () => {
  beforeAll(() => {
    for (const name of Object.values(names)) execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', name]);
    ids.victim = idsOf(names.victim);
    ids.squatter = idsOf(names.squatter);
    root = mkdtempSync(path.join(os.tmpdir(), 'skep-squat-'));
    chmodSync(root, 0o755);
    // The built CLI, where the victim may read it, with node_modules beside it.
    cli = path.join(root, 'skep.mjs');
    copyFileSync(BUILT_CLI, cli);
    symlinkSync(path.resolve(path.dirname(BUILT_CLI), '../../node_modules'), path.join(root, 'node_modules'));
    sharedTmp = path.join(root, 'tmp');
    mkdirSync(sharedTmp);
    chmodSync(sharedTmp, 0o1777);
    for (const dir of ['victim-home', 'victim-data']) {
      mkdirSync(path.join(root, dir), { mode: 0o700 });
      chownSync(path.join(root, dir), ids.victim.uid, ids.victim.gid);
    }
  });

  afterAll(async () => {
    await daemon?.stop();
    for (const child of children) child.kill('SIGKILL');
    if (root !== '') rmSync(root, { recursive: true, force: true });
    for (const name of Object.values(names)) execFileSync('userdel', [name]);
  });

  test('the victim neither sends its token nor starts its daemon there; without the squatter it makes its own', async () => {
    const victimDir = path.join(sharedTmp, `skep-${ids.victim.uid}`);
    const socketPath = path.join(victimDir, 'skep', 'skep.sock');
    // The squatter, first: the victim's fallback directory, open to all, and a listener in it.
    execFileSync('mkdir', ['-m', '0777', '-p', path.join(victimDir, 'skep')], ids.squatter);
    const script = `
      const net = require('node:net'), fs = require('node:fs');
      net.createServer((s) => { console.log('connection'); s.on('data', (d) => console.log('captured: ' + d)); })
        .listen(process.argv[1], () => { fs.chmodSync(process.argv[1], 0o777); console.log('listening'); });`;
    const listener = spawn(process.execPath, ['-e', script, socketPath], { ...ids.squatter, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(listener);
    let captured = '';
    listener.stdout.on('data', (c: Buffer) => (captured += c.toString()));
    await waitUntil('the squatter to listen', () => captured.includes('listening'));

    const token = `SKEP-1-${'ab'.repeat(32)}-${'x'.repeat(25)}`;
    const join = await runAsVictim(['swarm', 'join', '--token-stdin', '127.0.0.1:9'], token);
    console.log(`victim's skep swarm join: exit ${join.code}: ${join.stderr.trim()}`);
    expect(join.code).not.toBe(0);
    expect(join.stderr).toContain(`refusing to use the control socket ${socketPath}: ${victimDir} belongs to user ${ids.squatter.uid}, not to you (user ${ids.victim.uid})`);
    expect(join.stderr).not.toContain(token);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(captured).not.toMatch(/connection|captured/);

    const refused = await runAsVictim(['daemon', '--data-dir', path.join(root, 'victim-data')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`refusing to use the control socket ${socketPath}`);

    // The squatter's directory removed: the victim's daemon makes its own, private, and answers.
    listener.kill('SIGKILL');
    rmSync(victimDir, { recursive: true, force: true });
    daemon = startProcess(process.execPath, [cli, 'daemon', '--data-dir', path.join(root, 'victim-data')], { ...ids.victim, env: victimEnv(), cwd: root });
    await waitForOutput(daemon, /skep daemon is running/, 30_000);
    const own = statSync(victimDir);
    expect([own.uid, own.mode & 0o777]).toEqual([ids.victim.uid, 0o700]);
    expect(statSync(socketPath).uid).toBe(ids.victim.uid);
    const ls = await runAsVictim(['node', 'ls']);
    // An answer from the victim's own daemon: it is not in a swarm yet.
    expect(ls.stderr).toContain('Error response from daemon: This node is not a swarm manager');
  }, 90_000);
});
