// One lab per run, shared by every file of the `lab` project: made before the first test file,
// removed after the last, whatever happened in between.
import type { TestProject } from 'vitest/node';
import { Lab, type LabInfo } from './lab.js';

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabInfo;
  }
}

export const LAB_HOSTS = [
  { name: 'h1' },
  { name: 'h2' },
  { name: 'h3' },
  { name: 'h4' },
  { name: 'h5', osRelease: 'PRETTY_NAME="Alpine Linux v3.20"\nNAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n' },
  { name: 'h6', fakeArch: 'armv6l' },
  { name: 'h7' },
];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lab = new Lab();
  const teardown = async (): Promise<void> => {
    await lab.destroy();
  };
  // A Ctrl-C during the run still removes namespaces, users and rules.
  const onSignal = (): void => void teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    project.provide('lab', await lab.create(LAB_HOSTS));
  } catch (error) {
    await teardown();
    throw error;
  }
  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  };
}
