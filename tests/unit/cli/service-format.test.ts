// `service ls`, `service ps` / `node ps` and `service inspect` with --format, in docker/cli's shapes:
// the row contexts' columns and `{{json .}}`, the raw and quiet formats, and moby's swarm.Service
// for inspect templates (`{{.Spec.TaskTemplate.ContainerSpec.Image}}`).
import { describe, expect, it } from 'vitest';
import { listingFormat } from '../../../electron/cli/format/command-output.js';
import { dockerService, ellipsis, SERVICE_LISTING, serviceRow, servicePorts, TASK_LISTING, taskRows } from '../../../electron/cli/format/docker-service.js';
import { formatInspect, formatList } from '../../../electron/cli/format/formatter.js';
import { service, spec, status, T0, task } from '../../support/swarm-services.js';

const web = service('w'.repeat(25), spec({
  name: 'web',
  image: 'busybox:1',
  mode: { kind: 'replicated', replicas: 3 },
  taskTemplate: { container: { image: 'busybox:1' }, placement: { maxReplicas: 2 } },
  updateConfig: { parallelism: 2, delayMs: 1500, order: 'start-first' },
  endpointSpec: { ports: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 8081 }, { targetPort: 53, publishedPort: 53, protocol: 'udp' }] },
}));

const list = (format: string | undefined, quiet = false): string =>
  formatList(listingFormat(SERVICE_LISTING, format, quiet), [serviceRow({ service: web, running: 2, desired: 3 })], SERVICE_LISTING.headers);

describe('service ls --format', () => {
  it('the default table, with the per-node cap and port ranges', () => {
    const [header, row] = list(undefined).split('\n');
    expect(header).toMatch(/^ID +NAME +MODE +REPLICAS +IMAGE +PORTS$/);
    expect(row).toBe('wwwwwwwwwwww   web       replicated   2/3 (max 2 per node)   busybox:1   *:8080-8081->80-81/tcp, *:53->53/udp');
  });

  it('templates, {{json .}}, raw and -q', () => {
    expect(list('{{.Name}} {{.Replicas}}')).toBe('web 2/3 (max 2 per node)\n');
    expect(JSON.parse(list('{{json .}}'))).toEqual({
      ID: 'wwwwwwwwwwww', Image: 'busybox:1', Mode: 'replicated', Name: 'web', Ports: '*:8080-8081->80-81/tcp, *:53->53/udp', Replicas: '2/3 (max 2 per node)',
    });
    expect(list('json')).toBe(list('{{json .}}'));
    expect(list('raw')).toBe('id: wwwwwwwwwwww\nname: web\nmode: replicated\nreplicas: 2/3 (max 2 per node)\nimage: busybox:1\nports: *:8080-8081->80-81/tcp, *:53->53/udp\n\n');
    expect(list(undefined, true)).toBe('wwwwwwwwwwww\n');
    expect(list('table {{.Name}}\t{{.Mode}}').split('\n')[0]).toMatch(/^NAME +MODE$/);
  });

  it('ports grouped as docker/cli groups them', () => {
    const port = (publishedPort: number, targetPort: number) => ({ protocol: 'tcp' as const, publishedPort, targetPort, publishMode: 'host' as const });
    expect(servicePorts([port(80, 80), port(81, 80)])).toBe('*:80-81->80/tcp');
    expect(servicePorts([port(80, 80), port(81, 81), port(82, 80)])).toBe('*:80-81->80-81/tcp, *:82->80/tcp');
    expect(servicePorts([])).toBe('');
  });
});

describe('service ps / node ps --format', () => {
  const now = T0 + 2 * 60_000;
  const current = task(web, { id: 'b'.repeat(25), slot: 1, nodeId: 'n1', createdAt: new Date(T0 + 60_000).toISOString(), status: status('running', T0 + 60_000) });
  const old = task(web, { id: 'a'.repeat(25), slot: 1, nodeId: 'n1', desiredState: 'shutdown', status: status('failed', T0, { err: 'starting container failed: no such image busybox:9' }) });
  const hosts = new Map([['n1', 'pi-1']]);
  const run = (format: string, trunc = true): string => formatList(listingFormat(TASK_LISTING, format, false), taskRows([old, current], hosts, { trunc, table: format.startsWith('table'), now }), TASK_LISTING.headers);

  it('history rows indented only in a table; names, nodes, states as Docker prints them', () => {
    expect(run('table {{.Name}}\t{{.Node}}\t{{.CurrentState}}').split('\n').map((l) => l.trimEnd())).toEqual([
      'NAME        NODE      CURRENT STATE',
      'web.1       pi-1      Running about a minute ago',
      ' \\_ web.1   pi-1      Failed 2 minutes ago',
      '',
    ]);
    expect(run('{{.Name}} {{.DesiredState}}')).toBe('web.1 Running\nweb.1 Shutdown\n');
  });

  it('errors quoted and cut at 30 characters unless --no-trunc; IDs likewise', () => {
    expect(ellipsis('starting container failed: no such image busybox:9', 30)).toHaveLength(30);
    expect(run('{{.Error}}').split('\n')[1]).toBe('"starting container failed: no…"');
    expect(run('{{.Error}}', false).split('\n')[1]).toBe('"starting container failed: no such image busybox:9"');
    expect(run('{{.ID}}').split('\n')[0]).toBe('b'.repeat(12));
    expect(run('{{.ID}}', false).split('\n')[0]).toBe('b'.repeat(25));
    expect(Object.keys(JSON.parse(run('{{json .}}').split('\n')[0]!) as object)).toEqual(['CurrentState', 'DesiredState', 'Error', 'ID', 'Image', 'Name', 'Node', 'Ports']);
  });
});

describe('service inspect --format', () => {
  it('reads moby\'s swarm.Service fields', () => {
    const one = (format: string): string => formatInspect(format, [dockerService(web)]).output.trimEnd();
    expect(one('{{.Spec.TaskTemplate.ContainerSpec.Image}}')).toBe('busybox:1');
    expect(one('{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}')).toBe('web 3');
    expect(one('{{.Spec.UpdateConfig.Parallelism}} {{.Spec.UpdateConfig.Delay}} {{.Spec.UpdateConfig.Order}}')).toBe('2 1500000000 start-first');
    expect(one('{{json .Spec.EndpointSpec.Ports}}')).toBe('[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8080,"PublishMode":"host"},{"Protocol":"tcp","TargetPort":81,"PublishedPort":8081,"PublishMode":"host"},{"Protocol":"udp","TargetPort":53,"PublishedPort":53,"PublishMode":"host"}]');
    const json = JSON.parse(formatInspect('', [dockerService(web)]).output) as [Record<string, unknown>];
    expect(Object.keys(json[0])).toEqual(['ID', 'Version', 'CreatedAt', 'UpdatedAt', 'Spec', 'Endpoint']);
    expect(Object.keys(json[0]['Spec'] as object)).toEqual(['Name', 'Labels', 'TaskTemplate', 'Mode', 'UpdateConfig', 'RollbackConfig', 'EndpointSpec']);
  });
});

describe('service logs lines', () => {
  it('carry Docker\'s prefix, shortened task IDs unless --no-trunc, node IDs with --no-resolve, bare with --raw', async () => {
    const { logLineText } = await import('../../../electron/cli/service-commands.js');
    const line = { taskId: 'k'.repeat(25), serviceName: 'web', slot: 2, nodeId: 'n'.repeat(25), hostname: 'pi-1', stream: 'stdout' as const, text: 'hello', timestamp: '2026-11-29T00:00:00.000000001Z' };
    expect(logLineText(line, { taskIds: true, trunc: true })).toBe(`web.2.${'k'.repeat(12)}@pi-1    | hello`);
    expect(logLineText(line, { taskIds: true, trunc: false, resolve: false })).toBe(`web.2.${'k'.repeat(25)}@${'n'.repeat(25)}    | hello`);
    expect(logLineText(line, { taskIds: false, trunc: true, timestamps: true })).toBe('web.2@pi-1    | 2026-11-29T00:00:00.000000001Z hello');
    expect(logLineText(line, { taskIds: true, trunc: true, raw: true })).toBe('hello');
  });
});
