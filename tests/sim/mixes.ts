/** A fault mix: how hostile the simulated world is. Probabilities are per simulated tick. */
export interface FaultMix {
  readonly name: string;
  readonly steps: number;
  readonly dropRate: number;
  readonly dupRate: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  /** Chance per tick that a message is held back much longer (reordering across terms). */
  readonly longDelayRate: number;
  /** Chance per tick that one directed link becomes very slow for a while (stale messages across terms). */
  readonly slowLinkRate: number;
  /** Chance per tick that the leader's outgoing links all become very slow for a while. */
  readonly slowLeaderRate: number;
  readonly partitionRate: number;
  readonly partitionTicks: readonly [number, number];
  readonly asymmetricShare: number;
  readonly crashRate: number;
  readonly downTicks: readonly [number, number];
  /** Crash a leader between fsync and send when it was just elected or its commit moved (the Figure 8 window). */
  readonly leaderCrashBeforeSendRate: number;
  /** Crash whichever node leads (after it sent), leaving its slow messages in flight. */
  readonly leaderCrashRate: number;
  /** Crash a node right after it granted a vote (tests that the vote was durable). */
  readonly voterCrashRate: number;
  readonly sleepRate: number;
  readonly sleepTicks: readonly [number, number];
  readonly membershipRate: number;
  readonly transferRate: number;
  readonly snapshotRate: number;
  readonly maxBytesPerMessage: number;
  readonly maxInflight: number;
  readonly clients: number;
  readonly readIndexShare: number;
  readonly opTimeout: number;
  /** Chance per tick that the hostile non-member injects one to three messages into a node. */
  readonly hostileRate: number;
}

const base: FaultMix = {
  name: 'base',
  steps: 260,
  dropRate: 0,
  dupRate: 0,
  minDelay: 1,
  maxDelay: 2,
  longDelayRate: 0,
  partitionRate: 0,
  slowLinkRate: 0,
  slowLeaderRate: 0,
  partitionTicks: [10, 40],
  asymmetricShare: 0.3,
  crashRate: 0,
  downTicks: [2, 30],
  leaderCrashBeforeSendRate: 0,
  voterCrashRate: 0,
  leaderCrashRate: 0,
  sleepRate: 0,
  sleepTicks: [30, 80],
  membershipRate: 0,
  transferRate: 0,
  snapshotRate: 0,
  maxBytesPerMessage: 4096,
  maxInflight: 8,
  clients: 3,
  readIndexShare: 0.5,
  opTimeout: 40,
  hostileRate: 0.1,
};

export const MIXES: Readonly<Record<string, FaultMix>> = {
  calm: { ...base, name: 'calm' },
  lossy: { ...base, name: 'lossy', dropRate: 0.1, dupRate: 0.05, maxDelay: 5, longDelayRate: 0.01 },
  partitions: { ...base, name: 'partitions', dropRate: 0.03, partitionRate: 0.03, maxDelay: 3 },
  crashes: { ...base, name: 'crashes', dropRate: 0.03, crashRate: 0.02, maxDelay: 3 },
  membership: { ...base, name: 'membership', dropRate: 0.02, membershipRate: 0.05, transferRate: 0.01, snapshotRate: 0.03, crashRate: 0.005 },
  snapshots: { ...base, name: 'snapshots', dropRate: 0.05, snapshotRate: 0.08, crashRate: 0.01, maxBytesPerMessage: 40, partitionRate: 0.01 },
  sleepy: { ...base, name: 'sleepy', dropRate: 0.02, sleepRate: 0.01, transferRate: 0.005 },
  chaos: {
    ...base,
    name: 'chaos',
    dropRate: 0.08,
    dupRate: 0.05,
    maxDelay: 6,
    longDelayRate: 0.01,
    partitionRate: 0.02,
    crashRate: 0.01,
    sleepRate: 0.004,
    membershipRate: 0.02,
    transferRate: 0.01,
    snapshotRate: 0.03,
    maxBytesPerMessage: 256,
  },
  /** Crashes and partitions around commits with one entry per append: the Figure 8 shapes. */
  figure8: {
    ...base,
    name: 'figure8',
    steps: 600,
    dropRate: 0.02,
    maxDelay: 4,
    longDelayRate: 0.02,
    downTicks: [1, 15],
    leaderCrashBeforeSendRate: 0.67,
    maxBytesPerMessage: 1,
    maxInflight: 2,
  },

  /** Competing candidates and voters that crash right after voting, with late duplicates of vote requests. */
  votes: {
    ...base,
    name: 'votes',
    steps: 600,
    dropRate: 0.1,
    dupRate: 0.3,
    maxDelay: 8,
    downTicks: [1, 3],
    voterCrashRate: 0.8,
    leaderCrashBeforeSendRate: 0.5,
  },
  /** Leaders die with slow messages on the wire that arrive terms later. */
  stale: {
    ...base,
    name: 'stale',
    steps: 400,
    dropRate: 0.02,
    maxDelay: 4,
    slowLinkRate: 0.02,
    slowLeaderRate: 0.06,
    leaderCrashRate: 0.03,
    downTicks: [5, 20],
  },
};

export const SAFETY_MIXES = ['calm', 'lossy', 'partitions', 'crashes', 'membership', 'snapshots', 'sleepy', 'chaos', 'figure8', 'votes', 'stale'] as const;
