// The `skep service` CLI's own pieces: Docker's value syntaxes (durations, sizes, ports) with Docker's
// refusals, and the `service ps` table (history rows, quoted errors, human times).
import { describe, expect, it } from 'vitest';
import { formatTaskTable, humanDuration, parseBytes, parseDuration, parsePort } from '../../../electron/cli/service-commands.js';
import { service, spec, status, T0, task } from '../../support/swarm-services.js';

describe('Docker\'s value syntaxes', () => {
  it('durations as Go parses them', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('5')).toThrow('time: missing unit in duration "5"');
    expect(() => parseDuration('5 s')).toThrow('time: unknown unit " s" in duration "5 s"');
    expect(() => parseDuration('5x')).toThrow('time: unknown unit "x" in duration "5x"');
    expect(() => parseDuration('abc')).toThrow('time: invalid duration "abc"');
  });

  it('sizes as Docker\'s RAMInBytes', () => {
    expect(parseBytes('64m')).toBe(64 * 1024 ** 2);
    expect(parseBytes('1g')).toBe(1024 ** 3);
    expect(parseBytes('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseBytes('100')).toBe(100);
    expect(() => parseBytes('lots')).toThrow("invalid size: 'lots'");
  });

  it('ports in both of Docker\'s forms, host mode only', () => {
    expect(parsePort('published=8080,target=80')).toEqual({ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' });
    expect(parsePort('published=53,target=53,protocol=udp,mode=host')).toEqual({ protocol: 'udp', targetPort: 53, publishedPort: 53, publishMode: 'host' });
    expect(parsePort('8080:80')).toEqual({ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' });
    expect(() => parsePort('published=8080')).toThrow('missing mandatory field "target"');
    expect(() => parsePort('published=80,target=80,mode=ingress')).toThrow('invalid publish mode value (ingress)');
    expect(() => parsePort('eighty')).toThrow('invalid port format: eighty');
  });
});

describe('service ps', () => {
  it('shows the newest task of a slot first, older ones as \\_ rows, errors quoted', () => {
    const web = service('s1', spec({ image: 'busybox:1' }));
    const now = T0 + 3 * 60_000;
    const current = task(web, { id: 'b'.repeat(25), slot: 1, nodeId: 'n1', createdAt: new Date(T0 + 60_000).toISOString(), status: status('running', T0 + 60_000) });
    const old = task(web, { id: 'a'.repeat(25), slot: 1, nodeId: 'n1', desiredState: 'shutdown', status: status('failed', T0, { err: 'task: non-zero exit (137)' }) });
    const lines = formatTaskTable([current, old], new Map([['n1', 'pi-1']]), { now }).split('\n');
    expect(lines[0]).toMatch(/^ID +NAME +IMAGE +NODE +DESIRED STATE +CURRENT STATE +ERROR +PORTS$/);
    expect(lines[1]).toMatch(/^b{12} +web\.1 +busybox:1 +pi-1 +Running +Running 2 minutes ago$/);
    expect(lines[2]).toMatch(/^a{12} +\\_ web\.1 +busybox:1 +pi-1 +Shutdown +Failed 3 minutes ago +"task: non-zero exit \(137\)"$/);
  });

  it('human durations read as Docker\'s', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(45_000)).toBe('45 seconds');
    expect(humanDuration(60_000)).toBe('About a minute');
    expect(humanDuration(2 * 3_600_000)).toBe('2 hours');
    expect(humanDuration(3 * 24 * 3_600_000)).toBe('3 days');
  });
});
