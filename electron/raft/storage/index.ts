export { crc32c } from './crc32c.js';
export { DiskStorage, type DiskStorageOptions, type LoadedState } from './disk-storage.js';
export { DataDirLockedError, StorageClosedError, StorageInconsistencyError, WalCorruptionError } from './errors.js';
export { DataDirLock, LOCK_FILE } from './lock.js';
export { silentLogger, type RaftLogger, type RaftLogLevel, type StorageRepair } from './logger.js';
export { SnapshotStore, type SnapshotFileInfo } from './snapshots.js';
export { DEFAULT_SEGMENT_BYTES, Wal, type SegmentInfo, type WalOptions, type WalReplay } from './wal.js';
export type { SnapshotMarker } from './codec.js';
export { AesGcmCipher, DataKeyMissingError, dataKeyId, SealedPayloadError, type PayloadCipher } from './cipher.js';
