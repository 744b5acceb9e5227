// `service create|update` flags as Docker's CLI parses them: each value syntax with Go's and
// docker/cli's refusals, the commands' whole command lines through commander and the usage layer
// (exit status 125, `invalid argument "V" for "--flag" flag: …`), and what a spec becomes.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseServiceSpec } from '../../../shared/service-schema.js';
import type { SkepError } from '../../../shared/errors.js';
import { addCreateFlags, addUpdateFlags, checkRollbackAlone, createSpec, updateSpec, type CreateFlags, type UpdateFlags } from '../../../electron/cli/service-flags.js';
import {
  durationFlag,
  envFlag,
  floatFlag,
  intFlag,
  labelFlag,
  memoryBytesFlag,
  mountFlag,
  nanoCpusFlag,
  parseGoDuration,
  placementPrefFlag,
  positiveDurationFlag,
  uintFlag,
} from '../../../electron/cli/service-values.js';
import { useDockerUsageErrors, type UsageFailure } from '../../../electron/cli/usage-errors.js';

class Refused extends Error {
  constructor(readonly failure: UsageFailure) {
    super(failure.error?.message ?? '');
  }
}

/** Parses a command line the way `skep service create|update` does and returns the flags, or the usage refusal. */
function parse(kind: 'create' | 'update', argv: readonly string[]): { flags: CreateFlags & UpdateFlags; args: string[] } {
  const root = new Command('skep');
  const service = root.command('service').enablePositionalOptions();
  let result: { flags: CreateFlags & UpdateFlags; args: string[] } | undefined;
  const sub = kind === 'create' ? addCreateFlags(service.command('create')).argument('<image>').argument('[command...]').passThroughOptions() : addUpdateFlags(service.command('update')).argument('<service>');
  sub.action((first: string, second: unknown, third: unknown) => {
    result = kind === 'create' ? { flags: third as CreateFlags & UpdateFlags, args: [first, ...(second as string[])] } : { flags: second as CreateFlags & UpdateFlags, args: [first] };
  });
  useDockerUsageErrors(root, (failure) => {
    throw new Refused(failure);
  });
  root.parse(['service', kind, ...argv], { from: 'user' });
  return result!;
}

function refusal(kind: 'create' | 'update', argv: readonly string[]): UsageFailure {
  try {
    parse(kind, argv);
  } catch (error) {
    if (error instanceof Refused) return error.failure;
    throw error;
  }
  throw new Error('the command line was accepted');
}

describe('Go durations (time.ParseDuration)', () => {
  it('reads Go\'s syntax in milliseconds', () => {
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('1500us')).toBe(1.5);
    expect(parseGoDuration('-5s')).toBe(-5000);
    expect(parseGoDuration('+0')).toBe(0);
    expect(parseGoDuration('.5s')).toBe(500);
  });

  it('refuses with Go\'s texts', () => {
    expect(() => parseGoDuration('')).toThrow('time: invalid duration ""');
    expect(() => parseGoDuration('abc')).toThrow('time: invalid duration "abc"');
    expect(() => parseGoDuration('.s')).toThrow('time: invalid duration ".s"');
    expect(() => parseGoDuration('10')).toThrow('time: missing unit in duration "10"');
    expect(() => parseGoDuration('1m30')).toThrow('time: missing unit in duration "1m30"');
    expect(() => parseGoDuration('3d')).toThrow('time: unknown unit "d" in duration "3d"');
  });

  it('--health-* durations may not be negative; others may (the daemon decides)', () => {
    expect(durationFlag('-1s')).toBe(-1000);
    expect(() => positiveDurationFlag('-1s')).toThrow('duration cannot be negative');
    expect(positiveDurationFlag('30s')).toBe(30_000);
  });
});

describe('numbers (strconv) and sizes', () => {
  it('uint as ParseUint(s, 0, 64)', () => {
    expect(uintFlag('5')).toBe(5);
    expect(uintFlag('0x10')).toBe(16);
    expect(uintFlag('010')).toBe(8);
    expect(uintFlag('1_000')).toBe(1000);
    expect(() => uintFlag('-1')).toThrow('strconv.ParseUint: parsing "-1": invalid syntax');
    expect(() => uintFlag('two')).toThrow('strconv.ParseUint: parsing "two": invalid syntax');
    expect(() => uintFlag('1__0')).toThrow('invalid syntax');
    expect(() => uintFlag('99999999999999999999999')).toThrow('strconv.ParseUint: parsing "99999999999999999999999": value out of range');
  });

  it('int as ParseInt, float as ParseFloat(s, 32)', () => {
    expect(intFlag('-3')).toBe(-3);
    expect(() => intFlag('3x')).toThrow('strconv.ParseInt: parsing "3x": invalid syntax');
    expect(floatFlag('0.25')).toBe(0.25);
    expect(floatFlag('1e-1')).toBeCloseTo(0.1, 6);
    expect(() => floatFlag('half')).toThrow('strconv.ParseFloat: parsing "half": invalid syntax');
  });

  it('CPUs as a rational number of whole nano-CPUs; memory as go-units RAMInBytes', () => {
    expect(nanoCpusFlag('1.5')).toBe(1_500_000_000);
    expect(nanoCpusFlag('3/2')).toBe(1_500_000_000);
    expect(nanoCpusFlag('0.001')).toBe(1_000_000);
    expect(() => nanoCpusFlag('lots')).toThrow('failed to parse lots as a rational number');
    expect(() => nanoCpusFlag('0.0000000001')).toThrow('value is too precise');
    expect(memoryBytesFlag('64m')).toBe(64 * 1024 ** 2);
    expect(memoryBytesFlag('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(memoryBytesFlag('512 kb')).toBe(512 * 1024);
    expect(() => memoryBytesFlag('64x')).toThrow("invalid size: '64x'");
  });
});

describe('lists: env, labels, placement preferences, mounts', () => {
  it('env and labels as ValidateEnv and ValidateLabel', () => {
    expect(envFlag('A=1')).toBe('A=1');
    process.env['SKEP_TEST_INHERITED'] = 'from-shell';
    expect(envFlag('SKEP_TEST_INHERITED')).toBe('SKEP_TEST_INHERITED=from-shell');
    delete process.env['SKEP_TEST_INHERITED'];
    expect(() => envFlag('=1')).toThrow('invalid environment variable: =1');
    expect(labelFlag('tier=web')).toBe('tier=web');
    expect(() => labelFlag('=web')).toThrow("invalid label '=web': empty name");
    expect(() => labelFlag('my tier=web')).toThrow("label 'my tier' contains whitespaces");
  });

  it('placement preferences: spread only', () => {
    expect(placementPrefFlag('spread=node.labels.rack')).toBe('node.labels.rack');
    expect(() => placementPrefFlag('spread')).toThrow('placement preference must be of the format "<strategy>=<arg>"');
    expect(() => placementPrefFlag('pack=node.labels.rack')).toThrow('unsupported placement preference pack (only spread is supported)');
  });

  it('mounts as opts.MountOpt', () => {
    expect(mountFlag('type=bind,source=/srv/data,target=/data,readonly')).toEqual({ type: 'bind', source: '/srv/data', target: '/data', readOnly: true });
    expect(mountFlag('src=cache,dst=/cache')).toEqual({ type: 'volume', source: 'cache', target: '/cache', readOnly: false });
    expect(mountFlag('type=volume,target=/x,ro=false')).toEqual({ type: 'volume', source: '', target: '/x', readOnly: false });
    expect(() => mountFlag('')).toThrow('value is empty');
    expect(() => mountFlag('type=bind,target')).toThrow("invalid field 'target' must be a key=value pair");
    expect(() => mountFlag('type=bind,color=red')).toThrow("unknown option 'color' in 'color=red'");
    expect(() => mountFlag('type=bind,ro=maybe,target=/x')).toThrow(`invalid value for 'ro': invalid boolean value ("maybe"): must be one of "true", "1", "false", or "0" (default "true")`);
    expect(() => mountFlag('type=,target=/x')).toThrow("invalid value for 'type': value is empty");
    expect(() => mountFlag('type=floppy,target=/x')).toThrow('invalid MountType: "floppy"');
    expect(() => mountFlag('type=tmpfs,target=/x')).toThrow('mount type "tmpfs" is not supported by Skep');
  });
});

describe('service create: the command line', () => {
  it('builds the spec the flags say, with Swarm\'s defaults for the rest', () => {
    const { flags, args } = parse('create', [
      '--name', 'web', '--replicas', '3', '--update-parallelism', '2', '--update-delay', '1m30s', '--update-order', 'start-first',
      '--update-failure-action', 'rollback', '--update-monitor', '10s', '--update-max-failure-ratio', '0.2',
      '--rollback-parallelism', '0', '--rollback-order', 'start-first',
      '--mount', 'type=bind,source=/srv,target=/data,readonly', '--health-cmd', 'wget -q -O- localhost', '--health-interval', '5s',
      '--health-retries', '3', '--restart-condition', 'on-failure', '--restart-max-attempts', '4', '--limit-memory', '64m',
      '--reserve-cpu', '0.5', '--constraint', 'node.role==worker', '--placement-pref', 'spread=node.labels.rack', '-e', 'A=1',
      '-l', 'tier=web', '-p', '8080:80', '--replicas-max-per-node', '2', 'busybox:1', 'httpd', '-f',
    ]);
    expect(args).toEqual(['busybox:1', 'httpd', '-f']);
    const parsed = parseServiceSpec(createSpec(args[0]!, args.slice(1), flags));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const spec = parsed.spec;
    expect(spec.mode).toEqual({ kind: 'replicated', replicas: 3 });
    expect(spec.updateConfig).toEqual({ parallelism: 2, delayMs: 90_000, failureAction: 'rollback', monitorMs: 10_000, maxFailureRatio: expect.closeTo(0.2, 6) as number, order: 'start-first' });
    expect(spec.rollbackConfig).toEqual({ parallelism: 0, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'start-first' });
    expect(spec.taskTemplate.container.mounts).toEqual([{ type: 'bind', source: '/srv', target: '/data', readOnly: true }]);
    expect(spec.taskTemplate.container.healthcheck).toEqual({ test: ['CMD-SHELL', 'wget -q -O- localhost'], intervalMs: 5000, timeoutMs: 0, startPeriodMs: 0, retries: 3 });
    expect(spec.taskTemplate.restartPolicy).toEqual({ condition: 'on-failure', delayMs: 5000, maxAttempts: 4, windowMs: 0 });
    expect(spec.taskTemplate.resources).toEqual({ limits: { nanoCpus: 0, memoryBytes: 64 * 1024 ** 2 }, reservations: { nanoCpus: 500_000_000, memoryBytes: 0 } });
    expect(spec.taskTemplate.placement).toEqual({ constraints: ['node.role==worker'], preferences: [{ spread: 'node.labels.rack' }], maxReplicas: 2, platforms: [] });
    expect(spec.taskTemplate.container.env).toEqual(['A=1']);
    expect(spec.labels).toEqual({ tier: 'web' });
    expect(spec.endpointSpec.ports).toEqual([{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }]);
  });

  it('refuses bad values as Docker\'s flag errors (exit 125), before anything is sent', () => {
    const cases: [string[], string][] = [
      [['--update-parallelism', 'two'], 'invalid argument "two" for "--update-parallelism" flag: strconv.ParseUint: parsing "two": invalid syntax'],
      [['--update-delay', '10'], 'invalid argument "10" for "--update-delay" flag: time: missing unit in duration "10"'],
      [['--rollback-monitor', '5x'], 'invalid argument "5x" for "--rollback-monitor" flag: time: unknown unit "x" in duration "5x"'],
      [['--update-max-failure-ratio', 'most'], 'invalid argument "most" for "--update-max-failure-ratio" flag: strconv.ParseFloat: parsing "most": invalid syntax'],
      [['--health-interval', '-1s'], 'invalid argument "-1s" for "--health-interval" flag: duration cannot be negative'],
      [['--health-retries', 'x'], 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax'],
      [['--mount', 'type=bind'], ''],
      [['--mount', 'target'], `invalid argument "target" for "--mount" flag: invalid field 'target' must be a key=value pair`],
      [['--limit-cpu', 'lots'], 'invalid argument "lots" for "--limit-cpu" flag: failed to parse lots as a rational number'],
      [['--reserve-memory', '1q'], `invalid argument "1q" for "--reserve-memory" flag: invalid size: '1q'`],
      [['--restart-delay', '5'], 'invalid argument "5" for "--restart-delay" flag: time: missing unit in duration "5"'],
      [['--replicas', '-1'], 'invalid argument "-1" for "--replicas" flag: strconv.ParseUint: parsing "-1": invalid syntax'],
      [['--placement-pref', 'spread'], 'invalid argument "spread" for "--placement-pref" flag: placement preference must be of the format "<strategy>=<arg>"'],
      [['-p', 'published=80,target=x'], 'invalid argument "published=80,target=x" for "--publish" flag: invalid target port (x): value must be an integer: invalid syntax'],
      [['-e', '=x'], 'invalid argument "=x" for "--env" flag: invalid environment variable: =x'],
    ];
    for (const [flags, message] of cases) {
      if (message === '') continue; // `type=bind` without a target is the daemon's to refuse
      const failure = refusal('create', [...flags, 'busybox']);
      expect(failure.exitCode).toBe(125);
      expect(failure.error?.message.split('\n')[0]).toBe(message);
      expect(failure.error?.message).toContain("Run 'skep service create --help' for more information");
    }
  });

  it('refuses contradictions with docker/cli\'s texts', () => {
    const attempt = (argv: string[]): string => {
      const { flags, args } = parse('create', argv);
      try {
        createSpec(args[0]!, args.slice(1), flags);
      } catch (error) {
        return (error as SkepError).message;
      }
      return 'accepted';
    };
    expect(attempt(['--no-healthcheck', '--health-cmd', 'true', 'busybox'])).toBe('--no-healthcheck conflicts with --health-* options');
    expect(attempt(['--mode', 'global', '--replicas', '2', 'busybox'])).toBe('replicas can only be used with replicated or replicated-job mode');
    expect(attempt(['--mode', 'global', '--replicas-max-per-node', '2', 'busybox'])).toBe('replicas-max-per-node can only be used with replicated or replicated-job mode');
    expect(attempt(['--mode', 'replicated-job', 'busybox'])).toBe('unknown mode: replicated-job, only replicated and global supported');
    expect(attempt(['--no-healthcheck', 'busybox'])).toBe('accepted');
  });

  it('values only the daemon checks get the daemon\'s texts (moby\'s conversion), and nothing is created', () => {
    const daemonRefusal = (argv: string[]): string => {
      const { flags, args } = parse('create', [...argv, '--name', 'web', 'busybox']);
      try {
        const parsed = parseServiceSpec(createSpec(args[0]!, args.slice(1), flags));
        return parsed.ok ? 'accepted' : parsed.error.message;
      } catch (error) {
        return (error as SkepError).message;
      }
    };
    expect(daemonRefusal(['--update-failure-action', 'panic'])).toBe('unrecognized update failure action panic');
    expect(daemonRefusal(['--rollback-order', 'sideways'])).toBe('unrecognized update order sideways');
    expect(daemonRefusal(['--restart-condition', 'always'])).toBe('invalid RestartCondition: "always"');
    expect(daemonRefusal(['--update-max-failure-ratio', '1.5'])).toBe('TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1');
    expect(daemonRefusal(['--update-delay', '-1s'])).toBe('TaskSpec: update-delay cannot be negative');
    expect(daemonRefusal(['--health-interval', '100us'])).toBe('ContainerSpec: Interval in HealthConfig cannot be less than 1ms');
  });
});

describe('service update: only what a flag names changes', () => {
  const base = (): ReturnType<typeof parseServiceSpec> =>
    parseServiceSpec({
      name: 'web',
      mode: { kind: 'replicated', replicas: 2 },
      labels: { tier: 'web', old: 'x' },
      taskTemplate: {
        container: {
          image: 'busybox:1',
          env: ['A=1', 'B=2'],
          mounts: [{ type: 'volume', source: 'data', target: '/data' }, { type: 'bind', source: '/etc/app', target: '/conf', readOnly: true }],
          healthcheck: { test: ['CMD-SHELL', 'true'], intervalMs: 5000, timeoutMs: 0, startPeriodMs: 0, retries: 3 },
        },
        placement: { constraints: ['node.role==worker'], preferences: [{ spread: 'node.labels.rack' }] },
      },
      updateConfig: { parallelism: 3, order: 'start-first' },
    });

  it('update and rollback configs, mounts, health, env, labels, placement', () => {
    const current = base();
    if (!current.ok) throw current.error;
    const { flags } = parse('update', [
      '--update-delay', '2s', '--rollback-failure-action', 'continue', '--mount-add', 'type=volume,source=logs,target=/logs', '--mount-rm', '/conf',
      '--health-retries', '5', '--env-add', 'B=3', '--env-rm', 'A', '--label-add', 'tier=api', '--label-rm', 'old',
      '--constraint-add', 'node.labels.ssd==true', '--placement-pref-rm', 'spread=node.labels.rack', '--replicas', '4', 'web',
    ]);
    const next = updateSpec(current.spec, flags);
    expect(next.updateConfig).toEqual({ ...current.spec.updateConfig, delayMs: 2000 });
    expect(next.updateConfig.parallelism).toBe(3);
    expect(next.rollbackConfig.failureAction).toBe('continue');
    expect(next.taskTemplate.container.mounts.map((m) => m.target)).toEqual(['/data', '/logs']);
    expect(next.taskTemplate.container.healthcheck).toEqual({ test: ['CMD-SHELL', 'true'], intervalMs: 5000, timeoutMs: 0, startPeriodMs: 0, retries: 5 });
    expect(next.taskTemplate.container.env).toEqual(['B=3']);
    expect(next.labels).toEqual({ tier: 'api' });
    expect(next.taskTemplate.placement.constraints).toEqual(['node.labels.ssd==true', 'node.role==worker']);
    expect(next.taskTemplate.placement.preferences).toEqual([]);
    expect(next.mode).toEqual({ kind: 'replicated', replicas: 4 });
    expect(next.taskTemplate.container.image).toBe('busybox:1');
    expect(parseServiceSpec(next).ok).toBe(true);
  });

  it('--no-healthcheck alone, and its conflict; --rollback alone; --mount-add twice on one target', () => {
    const current = base();
    if (!current.ok) throw current.error;
    expect(updateSpec(current.spec, parse('update', ['--no-healthcheck', 'web']).flags).taskTemplate.container.healthcheck?.test).toEqual(['NONE']);
    expect(() => updateSpec(current.spec, parse('update', ['--no-healthcheck', '--health-interval', '1s', 'web']).flags)).toThrow('--no-healthcheck conflicts with --health-* options');
    expect(() => checkRollbackAlone(parse('update', ['--rollback', '--image', 'busybox:2', 'web']).flags)).toThrow('other flags may not be combined with --rollback');
    expect(() => checkRollbackAlone(parse('update', ['--rollback', '-d', 'web']).flags)).not.toThrow();
    expect(() => updateSpec(current.spec, parse('update', ['--mount-add', 'target=/a', '--mount-add', 'type=bind,source=/b,target=/a', 'web']).flags)).toThrow('duplicate mount target');
    expect(refusal('update', ['--update-order', 'start-first', '--update-parallelism', 'x', 'web']).exitCode).toBe(125);
  });

  it('a global service refuses --replicas', () => {
    const global = parseServiceSpec({ name: 'agent', mode: { kind: 'global' }, taskTemplate: { container: { image: 'busybox' } } });
    if (!global.ok) throw global.error;
    expect(() => updateSpec(global.spec, parse('update', ['--replicas', '2', 'agent']).flags)).toThrow('replicas can only be used with replicated mode');
  });
});
