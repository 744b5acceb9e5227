// Services and tasks for the renderer's service components, on the 3-manager, 1-worker swarm of
// fixtures.ts. Specs go through the real schema, so they carry Swarm's defaults.
import { serviceSpecSchema, type ServiceSpecInput } from '../../shared/service-schema.js';
import type { Service, ServiceListEntry, Task, TaskState, TaskStatus } from '../../shared/services.js';

export const NOW = Date.parse('2026-03-01T12:00:00.000Z');
export const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

export function service(id: string, input: Partial<ServiceSpecInput> & { image?: string; name?: string } = {}, overrides: Partial<Service> = {}): Service {
  const { image, ...rest } = input;
  const spec = serviceSpecSchema.parse({ name: 'web', taskTemplate: { container: { image: image ?? 'skep-test/busybox:1' } }, ...rest });
  return { id, version: 10, createdAt: ago(600), updatedAt: ago(600), spec, specVersion: 10, ...overrides };
}

export function status(state: TaskState, secondsAgo: number, extra: Partial<TaskStatus> = {}): TaskStatus {
  return { state, timestamp: ago(secondsAgo), message: state, err: '', ...extra };
}

export function task(svc: Service, id: string, overrides: Partial<Task> = {}): Task {
  return {
    id,
    version: 1,
    createdAt: ago(300),
    updatedAt: ago(300),
    serviceId: svc.id,
    serviceName: svc.spec.name,
    slot: 1,
    nodeId: '',
    spec: svc.spec.taskTemplate,
    specVersion: svc.specVersion,
    endpoint: svc.spec.endpointSpec,
    desiredState: 'running',
    status: status('new', 300),
    origin: 'service',
    ...overrides,
  };
}

export function entry(svc: Service, running: number, desired: number): ServiceListEntry {
  return { service: svc, running, desired };
}
