import type { ControlClient } from './control-client.js';

/** Commands get the daemon client lazily, so `--help` works without a daemon. */
export type ClientFactory = () => ControlClient;
