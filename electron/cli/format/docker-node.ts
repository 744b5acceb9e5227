// Skep's nodes in Docker's shapes: the swarm.Node object `node inspect` prints (moby's
// api/types/swarm/node.go, fields in its order, omitempty as Go applies it), the row context of
// `node ls` and the context of `node inspect --pretty` (docker/cli cli/command/node/formatter.go).
import type { SwarmNode } from '../../../shared/types.js';
import { bytesSize, goTime, prettyPrint, rowContext, type ListingKind, type RowContext } from './docker-shapes.js';
import { GoMap, goTimeString } from './go-values.js';
import { TYPE_NAME } from './template.js';

/** docker/cli cli/command/node/formatter.go: defaultNodeTableFormat, the header names and the raw format. */
export const NODE_LISTING: ListingKind = {
  defaultTable: 'table {{.ID}} {{if .Self}}*{{else}} {{ end }}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}',
  headers: {
    ID: 'ID',
    Self: '',
    Hostname: 'HOSTNAME',
    Status: 'STATUS',
    Availability: 'AVAILABILITY',
    ManagerStatus: 'MANAGER STATUS',
    EngineVersion: 'ENGINE VERSION',
    TLSStatus: 'TLS STATUS',
  },
  raw: 'node_id: {{.ID}}\\nhostname: {{.Hostname}}\\nstatus: {{.Status}}\\navailability: {{.Availability}}\\nmanager_status: {{.ManagerStatus}}\\n',
  rawQuiet: 'node_id: {{.ID}}',
};

/** swarm.Node as the Engine API returns it (and `docker node inspect` prints it). */
export function dockerNode(node: SwarmNode): Record<string, unknown> {
  const { description, status, managerStatus } = node;
  const omitEmpty = (value: string): string | undefined => (value === '' ? undefined : value);
  return {
    ID: node.id,
    Version: { Index: node.version === undefined || node.version === 0 ? undefined : node.version },
    CreatedAt: goTime(node.createdAt),
    UpdatedAt: goTime(node.updatedAt),
    Spec: {
      Labels: new GoMap(node.spec.labels),
      Role: node.spec.role,
      Availability: node.spec.availability,
    },
    Description: {
      Hostname: omitEmpty(description.hostname),
      Platform: { Architecture: omitEmpty(description.platform.architecture), OS: omitEmpty(description.platform.os) },
      Resources: {
        NanoCPUs: description.resources.cpus === 0 ? undefined : description.resources.cpus * 1e9,
        MemoryBytes: description.resources.memoryBytes === 0 ? undefined : description.resources.memoryBytes,
      },
      Engine: { EngineVersion: omitEmpty(description.engineVersion), Labels: description.engineLabels && Object.keys(description.engineLabels).length > 0 ? new GoMap(description.engineLabels) : undefined },
    },
    Status: { State: status.state, Message: omitEmpty(status.message), Addr: omitEmpty(status.addr) },
    ManagerStatus: managerStatus
      ? { Leader: managerStatus.leader ? true : undefined, Reachability: managerStatus.reachability, Addr: omitEmpty(managerStatus.addr) }
      : undefined,
  };
}

/** nodeContext: one row of `node ls`. `selfId` is this node's ID (the `*` and `Self`). */
export function nodeRow(node: SwarmNode, selfId: string | undefined): RowContext {
  return rowContext('*node.nodeContext', {
    ID: () => node.id,
    Self: () => node.id === selfId,
    Hostname: () => node.description.hostname,
    Status: () => prettyPrint(node.status.state),
    Availability: () => prettyPrint(node.spec.availability),
    ManagerStatus: () => prettyPrint(!node.managerStatus ? '' : node.managerStatus.leader ? 'Leader' : node.managerStatus.reachability),
    // Every node's certificate comes from the swarm's own CA; Docker says "Ready" when the issuer matches.
    TLSStatus: () => (node.certificate ? 'Ready' : 'Unknown'),
    EngineVersion: () => node.description.engineVersion,
  });
}

/** docker/cli's nodeInspectPrettyTemplate (cli/command/node/formatter.go), without the TLS section Skep has no data for. */
export const NODE_PRETTY_TEMPLATE = `ID:			{{.ID}}
{{- if .Name }}
Name:			{{.Name}}
{{- end }}
{{- if .Labels }}
Labels:
{{- range $k, $v := .Labels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{ end }}
Hostname:              	{{.Hostname}}
Joined at:             	{{.CreatedAt}}
Status:
 State:			{{.StatusState}}
 {{- if .HasStatusMessage}}
 Message:              	{{.StatusMessage}}
 {{- end}}
 Availability:         	{{.SpecAvailability}}
 {{- if .Status.Addr}}
 Address:		{{.StatusAddr}}
 {{- end}}
{{- if .HasManagerStatus}}
Manager Status:
 Address:		{{.ManagerStatusAddr}}
 Raft Status:		{{.ManagerStatusReachability}}
 {{- if .IsManagerStatusLeader}}
 Leader:		Yes
 {{- else}}
 Leader:		No
 {{- end}}
{{- end}}
Platform:
 Operating System:	{{.PlatformOS}}
 Architecture:		{{.PlatformArchitecture}}
Resources:
 CPUs:			{{.ResourceNanoCPUs}}
 Memory:		{{.ResourceMemory}}
Engine Version:		{{.EngineVersion}}
{{- if .EngineLabels}}
Engine Labels:
{{- range $k, $v := .EngineLabels }}
 - {{ $k }}{{if $v }}={{ $v }}{{ end }}
{{- end }}{{- end }}`;

/** nodeInspectContext: the swarm.Node plus the methods the pretty template calls. */
export function nodePrettyContext(node: SwarmNode): Record<string, unknown> {
  const raw = dockerNode(node);
  const created = goTime(node.createdAt);
  return {
    ...raw,
    [TYPE_NAME]: '*node.nodeInspectContext',
    Name: () => '',
    Labels: () => new GoMap(node.spec.labels),
    Hostname: () => node.description.hostname,
    CreatedAt: () => prettyPrint(typeof created === 'string' ? created : goTimeString(created)),
    StatusState: () => prettyPrint(node.status.state),
    HasStatusMessage: () => node.status.message !== '',
    StatusMessage: () => prettyPrint(node.status.message),
    SpecAvailability: () => prettyPrint(node.spec.availability),
    StatusAddr: () => node.status.addr,
    HasManagerStatus: () => node.managerStatus !== undefined,
    ManagerStatusAddr: () => node.managerStatus?.addr ?? '',
    ManagerStatusReachability: () => prettyPrint(node.managerStatus?.reachability ?? ''),
    IsManagerStatusLeader: () => node.managerStatus?.leader === true,
    PlatformOS: () => node.description.platform.os,
    PlatformArchitecture: () => node.description.platform.architecture,
    ResourceNanoCPUs: () => node.description.resources.cpus,
    ResourceMemory: () => (node.description.resources.memoryBytes === 0 ? '' : bytesSize(node.description.resources.memoryBytes)),
    EngineLabels: () => new GoMap(node.description.engineLabels ?? {}),
    EngineVersion: () => node.description.engineVersion,
  };
}
