// What this machine is, read from the OS. Shown on the overview and, later, used for placement.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { NetworkAddress, OperatingSystem } from '../../shared/types.js';

export interface HostFacts {
  readonly hostname: string;
  readonly os: OperatingSystem;
  readonly architecture: string;
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly addresses: readonly NetworkAddress[];
}

/** This machine's addresses, non-loopback first: what a person picks to advertise. */
export function networkAddresses(): NetworkAddress[] {
  const found: NetworkAddress[] = [];
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    for (const info of infos ?? []) {
      const family = info.family === 'IPv6' ? 'IPv6' : 'IPv4';
      // Link-local IPv6 needs a zone to be usable; nobody advertises it.
      if (family === 'IPv6' && info.address.toLowerCase().startsWith('fe80:')) continue;
      found.push({ interface: name, address: info.address, family, internal: info.internal });
    }
  }
  return found.sort((a, b) => Number(a.internal) - Number(b.internal) || (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1));
}

/** Docker reports `uname -m` spellings; Node reports its own. Keep Docker's words. */
const DOCKER_ARCHITECTURE: Readonly<Record<string, string>> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  arm: 'armv7l',
  ia32: 'i386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function dockerArchitecture(nodeArch: string): string {
  return DOCKER_ARCHITECTURE[nodeArch] ?? nodeArch;
}

/** Parses /etc/os-release (freedesktop format: KEY=value, values optionally quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match?.[1] || match[2] === undefined) continue;
    let value = match[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(["'\\$`])/g, '$1');
    fields[match[1]] = value;
  }
  return fields;
}

async function operatingSystem(): Promise<OperatingSystem> {
  const platform = os.platform();
  const kernel = os.release();
  if (platform === 'linux') {
    for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
      try {
        const fields = parseOsRelease(await readFile(file, 'utf8'));
        return {
          platform,
          name: fields['PRETTY_NAME'] ?? fields['NAME'] ?? 'Linux',
          version: fields['VERSION_ID'] ?? fields['VERSION'] ?? kernel,
          kernel,
        };
      } catch {
        // Try the next location; a minimal container may have neither.
      }
    }
    return { platform, name: 'Linux', version: kernel, kernel };
  }
  const name = platform === 'darwin' ? 'macOS' : platform === 'win32' ? 'Windows' : os.type();
  const version = typeof os.version === 'function' ? os.version() : kernel;
  return { platform, name: `${name} ${version}`.trim(), version, kernel };
}

export async function readHostFacts(): Promise<HostFacts> {
  return {
    hostname: os.hostname(),
    os: await operatingSystem(),
    architecture: dockerArchitecture(os.arch()),
    cpuCount: os.cpus().length,
    memoryBytes: os.totalmem(),
    addresses: networkAddresses(),
  };
}
