// The `--format` engine, checked on Docker's own examples: docker/cli's templates/templates_test.go,
// cli/command/node/formatter_test.go (TestNodeContextWrite, TestNodeContextWriteJSON), the
// examples of docs.docker.com/engine/cli/formatting/, and Go's text/template semantics they rely on.
import { describe, expect, test } from 'vitest';
import { DOCKER_FUNCTIONS, HEADER_FUNCTIONS } from '../../../electron/cli/format/docker-funcs.js';
import { dockerNode, NODE_LISTING, NODE_PRETTY_TEMPLATE, nodePrettyContext, nodeRow } from '../../../electron/cli/format/docker-node.js';
import { bytesSize, prettyPrint } from '../../../electron/cli/format/docker-shapes.js';
import { formatInspect, formatList } from '../../../electron/cli/format/formatter.js';
import { listingFormat } from '../../../electron/cli/format/command-output.js';
import { GoMap, goJson } from '../../../electron/cli/format/go-values.js';
import { alignTabs } from '../../../electron/cli/format/tabwriter.js';
import { Template } from '../../../electron/cli/format/template.js';
import type { SwarmNode } from '../../../shared/types.js';

function run(source: string, data: unknown): string {
  return new Template(source, DOCKER_FUNCTIONS).execute(data);
}

function fails(source: string, data: unknown): string {
  try {
    run(source, data);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${source} did not fail`);
}

describe("docker/cli templates/templates_test.go", () => {
  test('TestParseJSONFunctions: json of a map field', () => {
    expect(run('{{json .Ports}}', new GoMap({ Ports: '0.0.0.0:2->8/udp' }))).toBe('"0.0.0.0:2->8/udp"');
  });

  test('TestParseStringFunctions: join of split', () => {
    expect(run('{{join (split . ":") "/"}}', 'text:with:colon')).toBe('text/with/colon');
  });

  test('TestNewParse', () => {
    expect(run('this is a {{ . }}', 'string')).toBe('this is a string');
  });

  test.each([
    ['{{truncate . 5}}', 'tupx5'],
    ['{{truncate . 25}}', 'tupx5xzf6hvsrhnruz5cr8gwp'],
    ['{{truncate . 30}}', 'tupx5xzf6hvsrhnruz5cr8gwp'],
    ['{{pad . 3 3}}', '   tupx5xzf6hvsrhnruz5cr8gwp   '],
  ])('TestParseTruncateFunction %s: on a value, on "", and on nil (an error)', (source, expected) => {
    expect(run(source, 'tupx5xzf6hvsrhnruz5cr8gwp')).toBe(expected);
    expect(run(source, '')).toBe('');
    expect(fails(source, null)).toMatch(/^template: :1:2: executing "" at <(truncate|pad) \.[^>]*>: /);
  });

  test.each(['{{ json .}}', '{{ split . ","}}', '{{ join . ","}}', '{{ title .}}', '{{ lower .}}', '{{ upper .}}', '{{ truncate . 2}}'])(
    'TestHeaderFunctions %s: a table header stays as it is',
    (source) => {
      expect(new Template(source, { ...DOCKER_FUNCTIONS, ...HEADER_FUNCTIONS }).execute('hello world')).toBe('hello world');
    },
  );
});

describe('docs.docker.com/engine/cli/formatting examples', () => {
  const container = {
    Args: ['-c', 'exit 0'],
    Name: '/Focused_Hopper',
    Image: 'busybox:latest',
    Mounts: [{ Type: 'volume', Name: 'data', Source: '/var/lib/docker/volumes/data/_data', Destination: '/data', RW: true }],
    NetworkSettings: { Networks: new GoMap({ bridge: { IPAddress: '172.17.0.2' }, lan: { IPAddress: '10.0.0.5' } }, null) },
  };

  test("join: {{join .Args \" , \"}}", () => {
    expect(run('{{join .Args " , "}}', container)).toBe('-c , exit 0');
  });

  test('json: {{json .Mounts}} keeps field order and escapes no HTML', () => {
    expect(run('{{json .Mounts}}', container)).toBe('[{"Type":"volume","Name":"data","Source":"/var/lib/docker/volumes/data/_data","Destination":"/data","RW":true}]');
    expect(run('{{json .}}', { A: '<b>&' })).toBe('{"A":"<b>&"}');
  });

  test('lower, upper, title', () => {
    expect(run('{{lower .Name}}', container)).toBe('/focused_hopper');
    expect(run('{{upper .Name}}', container)).toBe('/FOCUSED_HOPPER');
    expect(run('{{title .Name}}', { Name: 'focused hopper-lab' })).toBe('Focused Hopper-Lab');
  });

  test('split prints a slice as Go does', () => {
    expect(run('{{split .Image ":"}}', container)).toBe('[busybox latest]');
  });

  test('println: one value per line from a range over a map (in key order)', () => {
    expect(run('{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}', container)).toBe('172.17.0.2\n10.0.0.5\n');
  });

  test('table: "table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}\\t{{.Size}}" gets headers and tabwriter columns', () => {
    const rows = [
      { ID: '4e5021d210f6', Repository: 'busybox', Tag: 'latest', Size: '1.24MB' },
      { ID: 'a3b2c1d0e9f8', Repository: 'skep/web', Tag: 'v1.2.3', Size: '10MB' },
    ];
    const headers = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Size: 'SIZE' };
    expect(formatList('table {{.ID}}\\t{{.Repository}}\\t{{.Tag}}\\t{{.Size}}', rows, headers)).toBe(
      ['IMAGE ID       REPOSITORY   TAG       SIZE', '4e5021d210f6   busybox      latest    1.24MB', 'a3b2c1d0e9f8   skep/web     v1.2.3    10MB', ''].join('\n'),
    );
  });
});

describe("Go's text/template, as the formats use it", () => {
  test('if / else if / else, and Go truth (0, "", empty map are false)', () => {
    const t = '{{if .A}}a{{else if .B}}b{{else}}none{{end}}';
    expect(run(t, { A: 1, B: 1 })).toBe('a');
    expect(run(t, { A: 0, B: 'x' })).toBe('b');
    expect(run(t, { A: '', B: new GoMap() })).toBe('none');
  });

  test('range with $k, $v over a map in key order, else, break and continue', () => {
    const labels = new GoMap({ zone: 'b', disk: 'ssd', arch: 'arm' });
    expect(run('{{range $k, $v := .}}{{$k}}={{$v}};{{end}}', labels)).toBe('arch=arm;disk=ssd;zone=b;');
    expect(run('{{range .}}x{{else}}empty{{end}}', [])).toBe('empty');
    expect(run('{{range $i, $e := .}}{{if eq $i 1}}{{continue}}{{end}}{{if gt $i 2}}{{break}}{{end}}{{$e}}{{end}}', ['a', 'b', 'c', 'd'])).toBe('ac');
  });

  test('with, variables, pipelines, parentheses and chained fields', () => {
    expect(run('{{with .Spec}}{{.Role}}{{end}}', { Spec: { Role: 'manager' } })).toBe('manager');
    expect(run('{{$r := .Spec.Role}}{{$r | upper | printf "%s!"}}', { Spec: { Role: 'worker' } })).toBe('WORKER!');
    expect(run('{{(index .Nodes 1).Hostname}}', { Nodes: [{ Hostname: 'a' }, { Hostname: 'b' }] })).toBe('b');
    expect(run('{{range .Items}}{{$.Prefix}}{{.}}{{end}}', { Prefix: '>', Items: [1, 2] })).toBe('>1>2');
  });

  test('index on maps and slices, len, and comparisons', () => {
    const data = { L: new GoMap({ 'com.example.version': '1.0' }), S: ['x', 'y'] };
    expect(run('{{index .L "com.example.version"}}|{{index .L "missing"}}|{{index .S 1}}|{{len .S}}', data)).toBe('1.0||y|2');
    expect(run('{{if and (eq .A "x" "y") (ne .B 2) (lt 1 2) (ge 2 2)}}ok{{end}}', { A: 'y', B: 3 })).toBe('ok');
    expect(run('{{if or (not .A) .B}}yes{{end}}', { A: true, B: 'b' })).toBe('yes');
  });

  test('a missing map key prints <no value>; a missing struct field is an error', () => {
    expect(run('{{.Labels.nope}}', { Labels: new GoMap() })).toBe('<no value>');
    expect(fails('{{.Nope}}', { A: 1 })).toBe('template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type struct');
  });

  test('trim markers and comments', () => {
    expect(run('a  {{- .X -}}  b {{/* a comment */}}c', { X: 'x' })).toBe('axb c');
    expect(run('{{- /* trimmed comment */ -}}\n  d', {})).toBe('d');
  });

  test('printf verbs, widths and print', () => {
    expect(run('{{printf "%-6s|%4d|%q|%t|%5.2f|%v" "ab" 42 "q" true 3.14159 .}}', ['a'])).toBe('ab    |  42|"q"|true| 3.14|[a]');
    expect(run('{{print "a" 1 2 "b"}}', {})).toBe('a1 2b');
  });

  test('parse errors read as Go\'s', () => {
    expect(fails('{{InvalidFunction}}', {})).toBe('template: :1: function "InvalidFunction" not defined');
    expect(fails('{{.A', {})).toBe('template: :1: unclosed action');
    expect(fails('{{if .A}}x', {})).toBe('template: :1: unexpected EOF');
    expect(fails('{{end}}', {})).toBe('template: :1: unexpected {{end}}');
    expect(fails('{{nil}}', {})).toBe('template: :1:2: executing "" at <nil>: nil is not a command');
  });
});

describe('tabwriter (minwidth 10, padding 3, as docker/cli)', () => {
  test('the last cell of a line is not a column, and a short column is widened to minwidth', () => {
    expect(alignTabs('a\tb\tc\nlonger cell\tx\n')).toBe('a             b         c\nlonger cell   x\n');
  });

  test('a line without tabs ends a column block', () => {
    expect(alignTabs('ab\tc\nplain\nlonger text\td\n')).toBe('ab        c\nplain\nlonger text   d\n');
  });
});

function node(overrides: Partial<Record<string, unknown>> & { id: string; hostname: string }): SwarmNode {
  return {
    id: overrides.id,
    createdAt: '2026-11-10T23:00:00Z',
    updatedAt: '2026-11-10T23:00:00Z',
    spec: { role: 'worker', availability: (overrides['availability'] ?? 'active') as 'active', labels: (overrides['labels'] ?? {}) as Record<string, string> },
    role: 'worker',
    description: {
      hostname: overrides.hostname,
      platform: { os: 'linux', architecture: 'x86_64' },
      resources: { cpus: 0, memoryBytes: 0 },
      engineVersion: (overrides['engineVersion'] ?? '') as string,
    },
    status: { state: (overrides['state'] ?? 'ready') as 'ready', addr: '', message: '' },
    ...(overrides['managerStatus'] ? { managerStatus: overrides['managerStatus'] as SwarmNode['managerStatus'] } : {}),
  } as SwarmNode;
}

describe('docker/cli cli/command/node/formatter_test.go TestNodeContextWrite', () => {
  const nodes = [
    node({ id: 'nodeID1', hostname: 'foobar_baz', engineVersion: '18.03.0-ce', state: 'foo', availability: 'drain', managerStatus: { leader: true, reachability: 'reachable', addr: '' } }),
    node({ id: 'nodeID2', hostname: 'foobar_bar', engineVersion: '1.2.3', state: 'bar', availability: 'active', managerStatus: { leader: false, reachability: 'Reachable', addr: '' } }),
    node({ id: 'nodeID3', hostname: 'foobar_boo', state: 'boo', availability: 'active' }),
  ];
  const write = (format: string, quiet = false): string => formatList(listingFormat(NODE_LISTING, format, quiet), nodes.map((n) => nodeRow(n, undefined)), NODE_LISTING.headers);

  test('table (the default format)', () => {
    expect(write('table')).toBe(
      'ID          HOSTNAME     STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n' +
        'nodeID1     foobar_baz   Foo       Drain          Leader           18.03.0-ce\n' +
        'nodeID2     foobar_bar   Bar       Active         Reachable        1.2.3\n' +
        'nodeID3     foobar_boo   Boo       Active                          \n',
    );
  });

  test('table with -q, and "table {{.Hostname}}" with and without -q', () => {
    expect(write('table', true)).toBe('nodeID1\nnodeID2\nnodeID3\n');
    expect(write('table {{.Hostname}}')).toBe('HOSTNAME\nfoobar_baz\nfoobar_bar\nfoobar_boo\n');
    expect(write('table {{.Hostname}}', true)).toBe('HOSTNAME\nfoobar_baz\nfoobar_bar\nfoobar_boo\n');
  });

  test('"table {{.ID}}\\t{{.Hostname}}\\t{{.TLSStatus}}" without TLS information', () => {
    expect(write('table {{.ID}}\t{{.Hostname}}\t{{.TLSStatus}}')).toBe('ID        HOSTNAME     TLS STATUS\nnodeID1   foobar_baz   Unknown\nnodeID2   foobar_bar   Unknown\nnodeID3   foobar_boo   Unknown\n');
  });

  test('raw, and raw with -q', () => {
    expect(write('raw')).toBe(
      'node_id: nodeID1\nhostname: foobar_baz\nstatus: Foo\navailability: Drain\nmanager_status: Leader\n\n' +
        'node_id: nodeID2\nhostname: foobar_bar\nstatus: Bar\navailability: Active\nmanager_status: Reachable\n\n' +
        'node_id: nodeID3\nhostname: foobar_boo\nstatus: Boo\navailability: Active\nmanager_status: \n\n',
    );
    expect(write('raw', true)).toBe('node_id: nodeID1\nnode_id: nodeID2\nnode_id: nodeID3\n');
  });

  test('errors: an unknown function, and nil as a command', () => {
    expect(() => write('{{InvalidFunction}}')).toThrow('template parsing error: template: :1: function "InvalidFunction" not defined');
    expect(() => write('{{nil}}')).toThrow('template parsing error: template: :1:2: executing "" at <nil>: nil is not a command');
  });

  test('TestNodeContextWriteJSON: one flat object per line, keys sorted', () => {
    const lines = write('json').trim().split('\n');
    expect(lines[0]).toBe('{"Availability":"Drain","EngineVersion":"18.03.0-ce","Hostname":"foobar_baz","ID":"nodeID1","ManagerStatus":"Leader","Self":false,"Status":"Foo","TLSStatus":"Unknown"}');
    expect(lines.map((l) => (JSON.parse(l) as { ID: string }).ID)).toEqual(['nodeID1', 'nodeID2', 'nodeID3']);
    expect(write('{{json .ID}}')).toBe('"nodeID1"\n"nodeID2"\n"nodeID3"\n');
  });
});

describe("Docker's node object and --pretty", () => {
  const manager = node({ id: 'nodeID1', hostname: 'foobar_baz', engineVersion: '0.1.1', labels: { disk: 'ssd', empty: '' }, managerStatus: { leader: true, reachability: 'reachable', addr: '1.1.1.1:2377' } });

  test('swarm.Node as moby encodes it: field order, omitempty, labels sorted, time in RFC 3339', () => {
    expect(goJson(dockerNode({ ...manager, version: 7, description: { ...manager.description, resources: { cpus: 4, memoryBytes: 1024 } } }))).toBe(
      '{"ID":"nodeID1","Version":{"Index":7},"CreatedAt":"2026-11-10T23:00:00Z","UpdatedAt":"2026-11-10T23:00:00Z",' +
        '"Spec":{"Labels":{"disk":"ssd","empty":""},"Role":"worker","Availability":"active"},' +
        '"Description":{"Hostname":"foobar_baz","Platform":{"Architecture":"x86_64","OS":"linux"},"Resources":{"NanoCPUs":4000000000,"MemoryBytes":1024},"Engine":{"EngineVersion":"0.1.1"}},' +
        '"Status":{"State":"ready"},"ManagerStatus":{"Leader":true,"Reachability":"reachable","Addr":"1.1.1.1:2377"}}',
    );
  });

  test('inspect: indented by default, compact with json, templates fall back to the raw object', () => {
    const shaped = [dockerNode(manager)];
    expect(formatInspect('', shaped).output).toMatch(/^\[\n {4}\{\n {8}"ID": "nodeID1",\n/);
    expect(formatInspect('json', shaped).output).toBe(goJson(shaped) + '\n');
    expect(formatInspect('{{.Spec.Labels.disk}} {{json .Spec.Labels}} {{.CreatedAt}}', shaped).output).toBe('ssd {"disk":"ssd","empty":""} 2026-11-10 23:00:00 +0000 UTC\n');
    expect(formatInspect('{{.Nope}}', shaped)).toEqual({ output: '\n', errors: ['template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'] });
  });

  test('--pretty: docker/cli node-inspect-pretty.manager-leader.golden, line by line', () => {
    const pretty = new Template(NODE_PRETTY_TEMPLATE, DOCKER_FUNCTIONS).execute(nodePrettyContext({ ...manager, status: { state: 'ready', addr: '127.0.0.1', message: '' }, description: { ...manager.description, resources: { cpus: 0, memoryBytes: 20 * 1024 * 1024 } } }));
    expect(pretty.split('\n')).toEqual([
      'ID:\t\t\tnodeID1',
      'Labels:',
      ' - disk=ssd',
      ' - empty',
      'Hostname:              \tfoobar_baz',
      'Joined at:             \t2026-11-10 23:00:00 +0000 utc',
      'Status:',
      ' State:\t\t\tReady',
      ' Availability:         \tActive',
      ' Address:\t\t127.0.0.1',
      'Manager Status:',
      ' Address:\t\t1.1.1.1:2377',
      ' Raft Status:\t\tReachable',
      ' Leader:\t\tYes',
      'Platform:',
      ' Operating System:\tlinux',
      ' Architecture:\t\tx86_64',
      'Resources:',
      ' CPUs:\t\t\t0',
      ' Memory:\t\t20MiB',
      'Engine Version:\t\t0.1.1',
    ]);
  });

  test('PrettyPrint and go-units BytesSize', () => {
    expect([prettyPrint('ready'), prettyPrint('REACHABLE'), prettyPrint(''), prettyPrint(null)]).toEqual(['Ready', 'Reachable', '', 'None']);
    expect([bytesSize(20 * 1024 * 1024), bytesSize(8 * 1024 ** 3), bytesSize(25276026880), bytesSize(512)]).toEqual(['20MiB', '8GiB', '23.54GiB', '512B']);
  });
});
