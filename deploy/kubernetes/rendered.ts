import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

// The few Kubernetes fields the manifests' tests read, typed as the API defines them.

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: string };
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext & { fsGroup?: number };
  terminationGracePeriodSeconds?: number;
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  topologySpreadConstraints?: Array<{ maxSkew: number; topologyKey: string; whenUnsatisfiable: string; labelSelector?: LabelSelector }>;
  volumes?: Array<{ name: string; hostPath?: unknown; emptyDir?: unknown }>;
}

/** A Deployment or a StatefulSet: what runs pods here. */
export interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: { metadata: { labels?: Labels; annotations?: Record<string, string> }; spec: PodSpec };
  };
}

export interface Service extends KubeObject {
  spec: {
    type?: string;
    clusterIP?: string;
    selector?: Labels;
    ports: Array<{ name?: string; port: number; targetPort?: number | string; protocol?: string }>;
  };
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export interface Secret extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface PodDisruptionBudget extends KubeObject {
  spec: { selector: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string };
}

export interface HorizontalPodAutoscaler extends KubeObject {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: Array<{ type: string; resource?: { name: string; target: { type: string; averageUtilization?: number } } }>;
  };
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** Whether `kubectl` (with its built-in kustomize) is on the PATH. */
export function kubectlAvailable(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
}

/** `kubectl kustomize <dir>`, parsed. Renders only: talks to no cluster. */
export function renderKustomization(dir: string): Rendered {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw new Error(`kubectl kustomize ${dir}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} exited with ${result.status}:\n${result.stderr}`);
  return parseManifests(result.stdout, dir);
}

/** A multi-document YAML stream of Kubernetes objects (`source` names it in errors). */
export function parseManifests(text: string, source: string): Rendered {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]?.message}`);
    const object = document.toJS() as KubeObject | null;
    if (object) objects.push(object);
  }
  return new Rendered(objects);
}

/** The objects a kustomization renders, looked up by kind and name. */
export class Rendered {
  readonly objects: KubeObject[];

  constructor(objects: KubeObject[]) {
    this.objects = objects;
  }

  all<T extends KubeObject>(kind: string): T[] {
    return this.objects.filter((object) => object.kind === kind) as T[];
  }

  find<T extends KubeObject>(kind: string, name: string): T | undefined {
    return this.objects.find((object) => object.kind === kind && object.metadata.name === name) as T | undefined;
  }

  /** The object, or an error listing what there is of that kind. */
  one<T extends KubeObject>(kind: string, name: string): T {
    const found = this.find<T>(kind, name);
    if (!found) throw new Error(`no ${kind} named ${name}; there are: ${this.all(kind).map((o) => o.metadata.name).join(', ') || 'none'}`);
    return found;
  }

  workloads(): Workload[] {
    return this.objects.filter((object) => WORKLOAD_KINDS.has(object.kind)) as Workload[];
  }
}

/** Whether a selector (a Service's map or a LabelSelector's matchLabels) picks pods with these labels. */
export function selects(selector: Labels | undefined, labels: Labels | undefined): boolean {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels?.[key] === value);
}

/** A port given by number or by a container port's name, as a number; undefined when the name is unknown. */
export function containerPort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** What a container's variable holds: a literal, a Secret's key, or a field of its pod. */
export type EnvSource =
  | { value: string; from: string }
  | { secret: { name: string; key: string } }
  | { field: string };

/**
 * Every variable a container is given, as Kubernetes resolves them: `envFrom` ConfigMaps
 * first, then `env`, which wins on a clash. A ConfigMap that is not in the render throws.
 */
export function containerEnv(rendered: Rendered, container: Container): Map<string, EnvSource> {
  const env = new Map<string, EnvSource>();
  for (const source of container.envFrom ?? []) {
    if (source.secretRef) throw new Error(`${container.name}: envFrom a Secret (${source.secretRef.name}) is not expected here`);
    if (!source.configMapRef) continue;
    const configMap = rendered.one<ConfigMap>('ConfigMap', source.configMapRef.name);
    for (const [name, value] of Object.entries(configMap.data ?? {})) env.set(name, { value, from: `ConfigMap ${configMap.metadata.name}` });
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env.set(variable.name, { value: variable.value, from: `${container.name}'s env` });
    else if (variable.valueFrom?.secretKeyRef) env.set(variable.name, { secret: variable.valueFrom.secretKeyRef });
    else if (variable.valueFrom?.fieldRef) env.set(variable.name, { field: variable.valueFrom.fieldRef.fieldPath });
    else if (variable.valueFrom?.configMapKeyRef) {
      const { name, key } = variable.valueFrom.configMapKeyRef;
      const value = rendered.one<ConfigMap>('ConfigMap', name).data?.[key];
      if (value === undefined) throw new Error(`${container.name}: ${variable.name} reads key ${key} that ConfigMap ${name} lacks`);
      env.set(variable.name, { value, from: `ConfigMap ${name}` });
    }
  }
  return env;
}
