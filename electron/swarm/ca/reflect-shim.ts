// @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load unless the
// Reflect metadata API exists. The package that normally provides it (reflect-metadata) is not a
// dependency, and tsyringe only needs the handful of calls below (x509 is compiled without
// emitDecoratorMetadata, so nothing is ever stored under design:* keys). This must be evaluated
// before @peculiar/x509; ./x509.ts imports it first for that reason.

type Store = Map<unknown, unknown>;
const stores = new WeakMap<object, Map<string | symbol | undefined, Store>>();

function ownStore(target: object, property: string | symbol | undefined, create: boolean): Store | undefined {
  let byProperty = stores.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    stores.set(target, byProperty);
  }
  let store = byProperty.get(property);
  if (store === undefined && create) {
    store = new Map();
    byProperty.set(property, store);
  }
  return store;
}

interface ReflectMetadataApi {
  getMetadata?: unknown;
}

const R = Reflect as typeof Reflect & ReflectMetadataApi & Record<string, unknown>;

if (typeof R.getMetadata !== 'function') {
  const getOwnMetadata = (key: unknown, target: object, property?: string | symbol): unknown =>
    ownStore(target, property, false)?.get(key);
  const hasOwnMetadata = (key: unknown, target: object, property?: string | symbol): boolean =>
    ownStore(target, property, false)?.has(key) ?? false;
  const defineMetadata = (key: unknown, value: unknown, target: object, property?: string | symbol): void => {
    ownStore(target, property, true)?.set(key, value);
  };
  const getMetadata = (key: unknown, target: object, property?: string | symbol): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      if (hasOwnMetadata(key, t, property)) return getOwnMetadata(key, t, property);
    }
    return undefined;
  };
  const hasMetadata = (key: unknown, target: object, property?: string | symbol): boolean => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      if (hasOwnMetadata(key, t, property)) return true;
    }
    return false;
  };
  const metadata = (key: unknown, value: unknown) => (target: object, property?: string | symbol): void =>
    defineMetadata(key, value, target, property);
  Object.assign(R, { getMetadata, getOwnMetadata, hasMetadata, hasOwnMetadata, defineMetadata, metadata });
}

export {};
