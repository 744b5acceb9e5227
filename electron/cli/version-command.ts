// `skep version`: the client's and the daemon's versions in Docker's layout (docker/cli
// cli/command/system/version.go: the same template shape, aligned by a tabwriter of minwidth 20).
import type { SkepApi } from '../../shared/api.js';
import type { SystemInfo } from '../../shared/types.js';
import { SKEP_VERSION } from '../../shared/version.js';
import { cliError } from './output.js';
import { DOCKER_FUNCTIONS } from './format/docker-funcs.js';
import { GoMap } from './format/go-values.js';
import { JSON_FORMAT_KEY, TemplateError } from './format/formatter.js';
import { alignTabs } from './format/tabwriter.js';
import { Template } from './format/template.js';

const DEFAULT_VERSION_TEMPLATE = `{{with .Client -}}
Client:
 Version:	{{.Version}}
 Node.js version:	{{.NodeVersion}}
 OS/Arch:	{{.Os}}/{{.Arch}}
 Host:	{{.Host}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:
 {{- range $component := .Components}}
 {{$component.Name}}:
  Version:	{{$component.Version}}
  {{- range $key, $value := $component.Details}}
  {{$key}}:	{{$value}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

/** Node's process.arch in Go's GOARCH words, as Docker prints OS/Arch. */
function goArch(arch: string): string {
  return ({ x64: 'amd64', ia32: '386' } as Record<string, string>)[arch] ?? arch;
}

export function versionData(host: string, server: SystemInfo | undefined): Record<string, unknown> {
  const client = { Version: SKEP_VERSION, NodeVersion: process.version, Os: process.platform, Arch: goArch(process.arch), Host: host };
  if (!server) return { Client: client, Server: null };
  const components = [
    { Name: 'Skep', Version: server.skepVersion, Details: new GoMap({ 'Node.js version': `v${server.nodeVersion}`, 'OS/Arch': `${server.os.platform}/${server.architecture}` }) },
    server.engine.available
      ? { Name: 'Docker Engine', Version: server.engine.version, Details: new GoMap({ 'API version': server.engine.apiVersion, Endpoint: server.engine.endpoint }) }
      : { Name: 'Docker Engine', Version: 'none', Details: new GoMap({ Reason: server.engine.reason }) },
  ];
  return { Client: client, Server: { Components: components } };
}

/** Prints what it can: the client always; the daemon's part, or the daemon's error after it (exit 1). */
export async function runVersion(api: () => SkepApi, host: string, format: string | undefined): Promise<void> {
  let template: Template;
  try {
    template = new Template(format === undefined || format === '' ? DEFAULT_VERSION_TEMPLATE : format === JSON_FORMAT_KEY ? '{{json .}}' : format, DOCKER_FUNCTIONS);
  } catch (error) {
    throw cliError('TEMPLATE_ERROR', `template parsing error: ${(error as Error).message}`);
  }
  let server: SystemInfo | undefined;
  let failure: unknown;
  try {
    server = await api().getSystemInfo();
  } catch (error) {
    failure = error;
  }
  try {
    process.stdout.write(alignTabs(template.execute(versionData(host, server)) + '\n', { minWidth: 20, padding: 1 }));
  } catch (error) {
    if (error instanceof TemplateError) throw cliError('TEMPLATE_ERROR', `template parsing error: ${error.message}`);
    throw error;
  }
  if (failure) throw failure;
}
