// Host keys: OpenSSH's fingerprint form, and trust on first use with a hard stop on a change.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SkepError } from '../../../shared/errors.js';
import { parseMachineTarget } from '../../../shared/provision.js';
import { hostKeyOf, KnownHosts } from '../../../electron/provision/host-keys.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'skep-known-hosts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function realKey(name: string): { blob: Buffer; sshKeygenFingerprint: string } {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const blob = Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
  const sshKeygenFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  return { blob, sshKeygenFingerprint };
}

describe('host keys', () => {
  const first = realKey('first');
  const second = realKey('second');

  it('prints the fingerprint exactly as ssh-keygen -l does', () => {
    const key = hostKeyOf(first.blob);
    expect(key.fingerprint).toBe(first.sshKeygenFingerprint);
    expect(key.keyType).toBe('ssh-ed25519');
  });

  it('refuses an unknown key unless that exact fingerprint was accepted, then pins it (0600)', async () => {
    const store = new KnownHosts(dir);
    const key = hostKeyOf(first.blob);
    await expect(store.verify('10.0.0.5', 2222, key, {})).rejects.toMatchObject({ code: 'SSH_HOST_KEY_UNKNOWN' });
    await expect(store.verify('10.0.0.5', 2222, key, { accept: hostKeyOf(second.blob).fingerprint })).rejects.toMatchObject({ code: 'SSH_HOST_KEY_UNKNOWN' });
    expect((await store.verify('10.0.0.5', 2222, key, { accept: key.fingerprint })).status).toBe('trusted');
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(store.file, 'utf8')).toMatch(/^\[10\.0\.0\.5\]:2222 ssh-ed25519 AAAA/);
    expect((await store.report('10.0.0.5', 2222, key)).status).toBe('trusted');
  });

  it('stops hard on a changed key with both fingerprints; accepting is not enough, replacing is', async () => {
    const store = new KnownHosts(dir);
    const changed = hostKeyOf(second.blob);
    const error = await store.verify('10.0.0.5', 2222, changed, { accept: changed.fingerprint }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SkepError);
    expect((error as SkepError).code).toBe('SSH_HOST_KEY_CHANGED');
    expect((error as SkepError).message).toContain(first.sshKeygenFingerprint);
    expect((error as SkepError).message).toContain(second.sshKeygenFingerprint);
    expect((await store.verify('10.0.0.5', 2222, changed, { replace: changed.fingerprint })).status).toBe('trusted');
    expect((await store.report('10.0.0.5', 2222, hostKeyOf(first.blob))).status).toBe('changed');
  });
});

describe('machine targets', () => {
  it('parses USER@HOST[:PORT] and refuses what is not one', () => {
    expect(parseMachineTarget('pi@192.168.1.20')).toEqual({ user: 'pi', host: '192.168.1.20', port: 22 });
    expect(parseMachineTarget('root@nas.lan:2222')).toEqual({ user: 'root', host: 'nas.lan', port: 2222 });
    expect(parseMachineTarget('pi@[fd00::5]:22')).toEqual({ user: 'pi', host: 'fd00::5', port: 22 });
    for (const bad of ['192.168.1.20', 'pi@', 'pi@host:0', 'pi@host:70000', 'p i@host', 'pi@host;rm -rf /']) expect(parseMachineTarget(bad)).toBeNull();
  });
});
