// The one place that loads @peculiar/x509: after reflect-metadata (its tsyringe container needs the
// Reflect metadata API) and with Node's WebCrypto as its provider.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The provider expects the DOM Crypto type; Node's webcrypto is that object, typed separately.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export { x509 };
export const subtle = webcrypto.subtle;
