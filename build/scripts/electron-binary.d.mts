export function installedElectronBinary(): string | undefined;
export function installedElectronDist(): string | undefined;
export function fetchElectronBinary(): string | undefined;
