// `skep info`: this machine's facts, as the overview shows them (like `docker info`, much shorter).
import type { SystemInfo } from '../../shared/types.js';
import { defaultDataDir } from '../agent/data-dir.js';
import { SkepDaemon } from '../node/daemon.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatInfo(info: SystemInfo): string {
  const engine = info.engine.available
    ? `${info.engine.version} (API ${info.engine.apiVersion}) at ${info.engine.endpoint}`
    : info.engine.reason;
  const rows: [string, string][] = [
    ['Hostname', info.hostname],
    ['Operating system', info.os.name],
    ['Architecture', info.architecture],
    ['CPUs', String(info.cpuCount)],
    ['Total memory', formatBytes(info.memoryBytes)],
    ['Docker Engine', engine],
    ['Skep data dir', info.dataDir],
    ['Skep version', `${info.skepVersion} (Node.js ${info.nodeVersion})`],
    ['Swarm', 'inactive'],
  ];
  return rows.map(([label, value]) => `${(label + ':').padEnd(18)}${value}`).join('\n');
}

export async function runInfo(format: string | undefined): Promise<void> {
  const service = new SkepDaemon({ dataDir: defaultDataDir() });
  const info = await service.getSystemInfo();
  process.stdout.write((format === 'json' ? JSON.stringify(info, null, 2) : formatInfo(info)) + '\n');
}
