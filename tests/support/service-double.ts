// A SkepService double for tests that exercise a transport, not the node: the methods a test gives are
// used, every other method rejects, so an unexpected call fails the test loudly.
import type { SkepService } from '../../shared/api.js';

export function serviceWith(methods: Partial<SkepService>): SkepService {
  return new Proxy(methods as SkepService, {
    get(target, property, receiver) {
      if (property in target) return Reflect.get(target, property, receiver) as unknown;
      if (property === 'subscribe') return () => () => undefined;
      if (property === 'then') return undefined;
      return () => Promise.reject(new Error(`${String(property)} is not used by this test`));
    },
  });
}
