import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDataDir } from '../../../electron/agent/data-dir.js';
import { probeEngine } from '../../../electron/agent/engine.js';
import { dockerArchitecture, parseOsRelease, readHostFacts } from '../../../electron/agent/host-facts.js';

describe('host facts', () => {
  it('parses os-release with quoted and unquoted values', () => {
    const fields = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n# comment\n\nHOME_URL=\'https://www.debian.org/\'\n');
    expect(fields).toMatchObject({ PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)', VERSION_ID: '12', ID: 'debian', HOME_URL: 'https://www.debian.org/' });
  });

  it("uses Docker's architecture words", () => {
    expect(dockerArchitecture('x64')).toBe('x86_64');
    expect(dockerArchitecture('arm64')).toBe('aarch64');
    expect(dockerArchitecture('mips')).toBe('mips');
  });

  it('reads this machine', async () => {
    const facts = await readHostFacts();
    expect(facts.hostname).toBe(os.hostname());
    expect(facts.cpuCount).toBe(os.cpus().length);
    expect(facts.memoryBytes).toBe(os.totalmem());
    expect(facts.os.platform).toBe(os.platform());
    expect(facts.os.name.length).toBeGreaterThan(0);
  });

  it('says clearly when no engine answers', async () => {
    const status = await probeEngine({ host: 'unix:///nonexistent/skep-test/docker.sock' });
    expect(status).toEqual({ available: false, endpoint: 'unix:///nonexistent/skep-test/docker.sock', reason: 'no Docker Engine found (the socket does not exist)' });
  });

  it('follows the platform conventions for the data directory', () => {
    expect(defaultDataDir({ SKEP_DATA_DIR: '/tmp/x' }, 'linux')).toBe('/tmp/x');
    expect(defaultDataDir({}, 'darwin')).toBe(path.join(os.homedir(), 'Library', 'Application Support', 'Skep'));
    expect(defaultDataDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32')).toContain('Skep');
  });
});
