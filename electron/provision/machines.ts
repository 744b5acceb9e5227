// The machines this node added, so `machine ls` and `machine rm HOST` know them (a JSON file, 0600).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MachineRecord } from '../../shared/provision.js';
import { writeFileDurably } from './host-keys.js';

export class MachineRecords {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'machines.json');
  }

  async list(): Promise<MachineRecord[]> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      return Array.isArray(parsed) ? (parsed as MachineRecord[]) : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  async put(record: MachineRecord): Promise<void> {
    const others = (await this.list()).filter((r) => !(r.host === record.host && r.port === record.port));
    await this.write([...others, record]);
  }

  async remove(host: string, port: number): Promise<void> {
    await this.write((await this.list()).filter((r) => !(r.host === host && r.port === port)));
  }

  private write(records: MachineRecord[]): Promise<void> {
    return writeFileDurably(this.file, JSON.stringify(records, null, 2) + '\n', 0o600);
  }
}
