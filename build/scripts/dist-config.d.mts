import type { Configuration } from 'app-builder-lib';
export const projectRoot: string;
export const builderConfigPath: string;
export const UPDATE_URL_ENV: 'SKEP_UPDATE_URL';
export function loadBuilderConfig(file?: string): Configuration;
export function platformTargets(config: Configuration, platform: NodeJS.Platform): string[] | undefined;
export function updateFeedFromEnv(env: Record<string, string | undefined>): { url?: string; error?: string };
export function distConfig(base: Configuration, options: { updateUrl?: string | undefined; electronDist?: string | undefined; output?: string | undefined }): Configuration;
