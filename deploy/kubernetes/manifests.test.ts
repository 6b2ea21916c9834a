import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyCommand, toConfig } from '../../proxy-core/cli/options.ts';
import { startProxy, type RunningProxy } from '../../proxy-core/run.ts';
import { startPod, type TestPod } from '../../proxy-core/test/pods.ts';
import { flagFor, PENDING_FLAGS, PENDING_PATHS, proxyOptions, seconds, valueProblem } from './proxy-flags.ts';
import {
  containerEnv, containerPort, kubectlAvailable, parseManifests, renderKustomization, selects,
  type Container, type EnvSource, type HorizontalPodAutoscaler, type PodDisruptionBudget, type Rendered, type Secret, type Service, type Workload,
} from './rendered.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUSTOMIZE = path.join(ROOT, 'deploy/kubernetes');
const PROXY = 'pinlab-proxy';

const HAS_KUBECTL = kubectlAvailable();
if (!HAS_KUBECTL) {
  console.warn('deploy/kubernetes/manifests.test.ts: kubectl is not installed, so the overlays were NOT rendered and their checks are SKIPPED (any recent kubectl renders them: its kustomize v5 was used here, with kubectl 1.32).');
}

/** The proxy's Deployment, its container and every variable that container is given. */
function proxyIn(rendered: Rendered) {
  const deployment = rendered.one<Workload>('Deployment', PROXY);
  const [container, ...others] = deployment.spec.template.spec.containers;
  if (!container || others.length > 0) throw new Error(`${PROXY} should run one container, not ${deployment.spec.template.spec.containers.length}`);
  return { deployment, container, pod: deployment.spec.template.spec, env: containerEnv(rendered, container) };
}

function literal(env: Map<string, EnvSource>, name: string): string | undefined {
  const source = env.get(name);
  return source && 'value' in source ? source.value : undefined;
}

/** The host names that reach Service `service` of namespace `namespace` from a pod of that namespace. */
function namesOf(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** The containers of `workloads` that Service `service` sends to, with the port they serve `servicePort` on. */
function backingContainers(workloads: Workload[], service: Service, servicePort: number): Array<{ container: Container; port: number | undefined }> {
  const port = service.spec.ports.find((p) => p.port === servicePort);
  if (!port) return [];
  return workloads
    .filter((w) => selects(service.spec.selector, w.spec.template.metadata.labels))
    .flatMap((w) => w.spec.template.spec.containers)
    .map((container) => ({ container, port: containerPort(container, port.targetPort ?? port.port) }))
    .filter(({ port }) => port !== undefined);
}

/** What makes a pod's container run as root or with more than it needs, by the restricted Pod Security Standard. */
function privilegeProblems(workload: Workload): string[] {
  const pod = workload.spec.template.spec;
  const problems: string[] = [];
  const where = (container: Container) => `${workload.kind} ${workload.metadata.name}, container ${container.name}`;
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${workload.kind} ${workload.metadata.name} shares a host namespace`);
  for (const volume of pod.volumes ?? []) if (volume.hostPath) problems.push(`${workload.kind} ${workload.metadata.name} mounts a hostPath (${volume.name})`);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const context = { ...pod.securityContext, ...container.securityContext };
    if (context.runAsNonRoot !== true) problems.push(`${where(container)}: runAsNonRoot is not true`);
    if (!context.runAsUser) problems.push(`${where(container)}: runAsUser is ${context.runAsUser ?? 'unset (the image decides)'}, not a non-zero uid`);
    if (context.readOnlyRootFilesystem !== true) problems.push(`${where(container)}: the root filesystem is writable`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`${where(container)}: allowPrivilegeEscalation is not false`);
    if (context.privileged) problems.push(`${where(container)}: privileged`);
    if (!context.capabilities?.drop?.includes('ALL')) problems.push(`${where(container)}: capabilities are not all dropped`);
    if (context.capabilities?.add?.length) problems.push(`${where(container)}: adds capabilities ${context.capabilities.add.join(', ')}`);
    if (context.seccompProfile?.type !== 'RuntimeDefault' && context.seccompProfile?.type !== 'Localhost') problems.push(`${where(container)}: no seccomp profile`);
  }
  return problems;
}

describe.skipIf(!HAS_KUBECTL).each(['dev', 'production'])('the %s overlay, rendered by kubectl kustomize', (overlay) => {
  let rendered: Rendered;
  beforeAll(() => {
    rendered = renderKustomization(path.join(KUSTOMIZE, 'overlays', overlay));
  });

  it('puts every object in the namespace it creates', () => {
    const namespace = rendered.one<Workload>('Deployment', PROXY).metadata.namespace;
    expect(namespace).toBeTruthy();
    expect(rendered.find('Namespace', namespace as string)).toBeDefined();
    const elsewhere = rendered.objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== namespace);
    expect(elsewhere.map((o) => `${o.kind} ${o.metadata.name} in ${o.metadata.namespace ?? 'no namespace'}`)).toEqual([]);
  });

  it('has the namespace enforce the restricted Pod Security Standard', () => {
    const { deployment } = proxyIn(rendered);
    const namespace = rendered.one('Namespace', deployment.metadata.namespace as string);
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('points PINLAB_BACKEND_DNS at the headless backend Service of the same namespace, on the port its pods serve', () => {
    const { deployment, env } = proxyIn(rendered);
    const value = literal(env, 'PINLAB_BACKEND_DNS');
    const match = /^([^:/]+):(\d+)(\/\S*)?$/.exec(value ?? '');
    expect(match, `PINLAB_BACKEND_DNS is ${JSON.stringify(value)}, not NAME:PORT[/path]`).not.toBeNull();
    const [, host = '', port = ''] = match as RegExpExecArray;
    const service = rendered.one<Service>('Service', host.split('.')[0] as string);
    const namespace = deployment.metadata.namespace as string;
    expect(service.metadata.namespace).toBe(namespace);
    expect(namesOf(service.metadata.name, namespace)).toContain(host);
    expect(service.spec.clusterIP, 'a ClusterIP Service would hide the pods: it must be headless').toBe('None');
    const backends = backingContainers(rendered.workloads(), service, Number(port));
    expect(backends.length, `no pod behind Service ${service.metadata.name} serves its port ${port}`).toBeGreaterThan(0);
    for (const { container, port: served } of backends) expect(served, `container ${container.name}`).toBe(Number(port));
  });

  it('has the proxy listen on every address, on its container\'s http port', () => {
    const { container, env } = proxyIn(rendered);
    expect(['0.0.0.0', '::']).toContain(literal(env, 'PINLAB_HOST'));
    expect(Number(literal(env, 'PINLAB_PORT'))).toBe(containerPort(container, 'http'));
  });

  it('asks /readyz for readiness and /healthz for liveness, on the port the proxy listens on', () => {
    const { container, env } = proxyIn(rendered);
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(containerPort(container, probe?.httpGet?.port ?? -1)).toBe(Number(literal(env, 'PINLAB_PORT')));
    }
  });

  it('gives the proxy a grace period longer than its shutdown delay and timeout together', () => {
    const { pod, env } = proxyIn(rendered);
    const delay = seconds(flagFor('PINLAB_SHUTDOWN_DELAY')!, literal(env, 'PINLAB_SHUTDOWN_DELAY'));
    const timeout = seconds(flagFor('PINLAB_SHUTDOWN_TIMEOUT')!, literal(env, 'PINLAB_SHUTDOWN_TIMEOUT'));
    // 30 s is Kubernetes' default when the field is left out.
    expect(pod.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(delay + timeout);
  });

  it('runs no container as root: each with a non-zero uid, a read-only root filesystem, no escalation, no capabilities, seccomp', () => {
    expect(rendered.workloads().length).toBeGreaterThanOrEqual(2);
    expect(rendered.workloads().flatMap(privilegeProblems)).toEqual([]);
  });

  it('selects the proxy\'s pods, and only them, with its Service, which targets the port the proxy listens on', () => {
    const { deployment, container, env } = proxyIn(rendered);
    const service = rendered.one<Service>('Service', PROXY);
    expect(selects(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
    const others = rendered.workloads().filter((w) => w !== deployment && selects(service.spec.selector, w.spec.template.metadata.labels));
    expect(others.map((w) => w.metadata.name)).toEqual([]);
    for (const port of service.spec.ports) expect(containerPort(container, port.targetPort ?? port.port)).toBe(Number(literal(env, 'PINLAB_PORT')));
  });

  it('selects the proxy\'s pods, and only them, with its PodDisruptionBudget, which lets a drain take one replica but never the last', () => {
    const { deployment } = proxyIn(rendered);
    const pdb = rendered.one<PodDisruptionBudget>('PodDisruptionBudget', PROXY);
    expect(selects(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    const others = rendered.workloads().filter((w) => w !== deployment && selects(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels));
    expect(others.map((w) => w.metadata.name)).toEqual([]);
    const fewest = deployment.spec.replicas ?? rendered.one<HorizontalPodAutoscaler>('HorizontalPodAutoscaler', PROXY).spec.minReplicas ?? 1;
    expect(fewest).toBeGreaterThanOrEqual(2);
    const { maxUnavailable, minAvailable } = pdb.spec;
    expect(typeof maxUnavailable === 'number' || typeof minAvailable === 'number', 'a number, not a percentage, so that the check below means something').toBe(true);
    const mayTake = typeof maxUnavailable === 'number' ? maxUnavailable : fewest - (minAvailable as number);
    expect(mayTake).toBeGreaterThanOrEqual(1);
    expect(mayTake).toBeLessThan(fewest);
  });

  it('matches its selector and topology spread to the proxy\'s pod labels, spreading over nodes and zones', () => {
    const { deployment, pod } = proxyIn(rendered);
    const labels = deployment.spec.template.metadata.labels;
    expect(selects(deployment.spec.selector.matchLabels, labels)).toBe(true);
    const spread = pod.topologySpreadConstraints ?? [];
    expect(spread.map((s) => s.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const constraint of spread) expect(selects(constraint.labelSelector?.matchLabels, labels), constraint.topologyKey).toBe(true);
  });

  it('gives the proxy only variables pinlab-proxy reads, with values its own parser accepts', () => {
    const { env } = proxyIn(rendered);
    const options = proxyOptions();
    const problems: string[] = [];
    for (const [name, source] of env) {
      const flag = flagFor(name, options);
      if (!flag) {
        problems.push(`${name}: pinlab-proxy has no flag reading it`);
        continue;
      }
      const problem = 'value' in source ? valueProblem(flag, source.value) : null;
      if (problem) problems.push(`${name}=${'value' in source ? source.value : ''} (${'from' in source ? source.from : ''}): ${problem}`);
    }
    expect(problems).toEqual([]);
    expect(env.size).toBeGreaterThanOrEqual(8);
  });

  it('runs the image\'s entrypoint without command or args, so that the ConfigMap holds every flag', () => {
    const { container } = proxyIn(rendered);
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
    expect(container.envFrom?.some((source) => source.configMapRef?.name.startsWith(PROXY))).toBe(true);
  });

  it('turns service links off for the proxy, whose variables (PINLAB_PROXY_PORT, …) would share its PINLAB_ prefix', () => {
    const { pod } = proxyIn(rendered);
    const linkPrefixes = rendered.all<Service>('Service').map((s) => s.metadata.name.toUpperCase().replace(/-/g, '_') + '_');
    expect(linkPrefixes.some((prefix) => prefix.startsWith('PINLAB_')), 'the case this guards against').toBe(true);
    expect(pod.enableServiceLinks).toBe(false);
  });

  it('keeps sessions in Redis, required at start, at the URL the pinlab-redis Secret holds', () => {
    const { env } = proxyIn(rendered);
    expect(literal(env, 'PINLAB_STORE')).toBe('redis');
    const required = flagFor('PINLAB_STORE_REQUIRED');
    expect(required && 'option' in required ? required.option.parseArg?.(literal(env, 'PINLAB_STORE_REQUIRED') ?? 'off', undefined) : undefined).toBe(true);
    const url = env.get('PINLAB_REDIS_URL');
    expect(url && 'secret' in url ? url.secret.key : undefined).toBe('url');
    expect(url && 'secret' in url ? url.secret.name : '').toMatch(/^pinlab-redis(-[a-z0-9]+)?$/);
  });

  it('points Prometheus at /metrics on the proxy\'s port', () => {
    const { deployment, env } = proxyIn(rendered);
    const annotations = deployment.spec.template.metadata.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    expect(annotations['prometheus.io/port']).toBe(literal(env, 'PINLAB_PORT'));
  });

  it('runs the example backend on the reference server version the project tests with', () => {
    const { devDependencies } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const tested = devDependencies['@modelcontextprotocol/server-everything']?.replace(/^[\^~]/, '');
    const command = rendered.one<Workload>('Deployment', 'mcp-backend').spec.template.spec.containers[0]?.command ?? [];
    expect(command).toContain(`@modelcontextprotocol/server-everything@${tested}`);
    expect(command.at(-1)).toBe('streamableHttp');
  });

  if (overlay === 'dev') {
    it('runs one Redis pod, a StatefulSet\'s, at the URL of the Secret the proxy reads', () => {
      const { deployment, env } = proxyIn(rendered);
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      const redis = rendered.workloads().filter((w) => w.spec.template.spec.containers.some((c) => c.image.startsWith('redis:')));
      expect(redis.map((w) => `${w.kind} ${w.metadata.name} × ${w.spec.replicas}`)).toEqual(['StatefulSet redis × 1']);
      const ref = env.get('PINLAB_REDIS_URL');
      const secret = rendered.one<Secret>('Secret', ref && 'secret' in ref ? ref.secret.name : '');
      const url = new URL(secret.stringData?.url ?? Buffer.from(secret.data?.url ?? '', 'base64').toString('utf8'));
      expect(url.protocol).toBe('redis:');
      const service = rendered.one<Service>('Service', url.hostname.split('.')[0] as string);
      expect(namesOf(service.metadata.name, deployment.metadata.namespace as string)).toContain(url.hostname);
      const backing = backingContainers(redis, service, Number(url.port || 6379));
      expect(backing.map(({ port }) => port)).toEqual([Number(url.port || 6379)]);
    });
  }

  if (overlay === 'production') {
    it('has no Redis of its own: the proxy reads the URL from the pinlab-redis Secret you create', () => {
      const { env } = proxyIn(rendered);
      expect(rendered.all('StatefulSet')).toEqual([]);
      expect(rendered.workloads().flatMap((w) => w.spec.template.spec.containers).filter((c) => /(^|\/)redis[:@]/.test(c.image))).toEqual([]);
      const ref = env.get('PINLAB_REDIS_URL');
      expect(ref).toEqual({ secret: { name: 'pinlab-redis', key: 'url' } });
      expect(rendered.find('Secret', 'pinlab-redis'), 'production ships no Secret with a made-up URL').toBeUndefined();
    });

    it('scales the proxy Deployment with an HPA on CPU from at least 2 replicas, and leaves replicas to it', () => {
      const { deployment, container } = proxyIn(rendered);
      const hpa = rendered.one<HorizontalPodAutoscaler>('HorizontalPodAutoscaler', PROXY);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: deployment.apiVersion, kind: deployment.kind, name: deployment.metadata.name });
      expect(hpa.spec.metrics?.map((m) => `${m.type}/${m.resource?.name}/${m.resource?.target.type}`)).toEqual(['Resource/cpu/Utilization']);
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas ?? 1);
      expect(deployment.spec.replicas, 'an apply would reset what the HPA chose').toBeUndefined();
      expect(container.resources?.requests?.cpu, 'CPU utilization is measured against the request').toBeTruthy();
    });
  }
});

describe('pinlab-proxy as the manifests use it', () => {
  let pod: TestPod;
  let proxy: RunningProxy;
  beforeAll(async () => {
    pod = await startPod('pod-1');
    const command = proxyCommand().exitOverride();
    command.parse(['--port', '0', '--backend', pod.url], { from: 'user' });
    proxy = await startProxy(toConfig(command.opts()), () => {});
  });
  afterAll(async () => {
    await proxy?.close();
    await pod?.kill();
  });
  const get = async (pathname: string) => {
    const response = await request(`http://127.0.0.1:${proxy.port}${pathname}`);
    return { status: response.statusCode, text: await response.body.text() };
  };

  it('has none of the flags still listed as pending (the step that adds one removes it from PENDING_FLAGS)', () => {
    const options = proxyOptions();
    const landed = PENDING_FLAGS.filter((p) => options.some((o) => o.envVar === p.env || o.long === p.flags.split(' ')[0]));
    expect(landed.map((p) => p.flags)).toEqual([]);
  });

  it('answers the probes\' paths, and 404 for the pending ones until they land', async () => {
    const deployment = parseManifests(readFileSync(path.join(KUSTOMIZE, 'base/proxy-deployment.yaml'), 'utf8'), 'base/proxy-deployment.yaml').one<Workload>('Deployment', PROXY);
    const [container] = deployment.spec.template.spec.containers;
    const paths = [container?.readinessProbe, container?.livenessProbe].map((probe) => probe?.httpGet?.path ?? '(no httpGet)');
    expect(paths).toEqual(['/readyz', '/healthz']);
    for (const pathname of paths) {
      const { status } = await get(pathname);
      expect(status, `GET ${pathname}${PENDING_PATHS.includes(pathname) ? ' (pending: remove it from PENDING_PATHS once served)' : ''}`).toBe(PENDING_PATHS.includes(pathname) ? 404 : 200);
    }
  });

  it('serves every metric the README\'s deploy section says to watch', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = /^## Deploy to Kubernetes$([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme)?.[1] ?? '';
    const named = [...new Set(section.match(/pinlab_proxy_[a-z_]+/g) ?? [])];
    expect(named.length, 'the README names the metrics to watch').toBeGreaterThanOrEqual(3);
    const { status, text } = await get('/metrics');
    expect(status).toBe(200);
    expect(named.filter((name) => !new RegExp(`^(# (HELP|TYPE) )?${name}[ {]`, 'm').test(text))).toEqual([]);
  });
});
