import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { messageOf } from '../../proxy-core/errors.ts';
import { freePort } from '../net/free-port.ts';
import { ownerGone } from './alive.ts';
import { commandWithPort, DEMO_MCP_PATH, demoArgs } from './backend-launch.ts';
import { statusOf } from './docker-errors.ts';
import { hostNode } from './host-node.ts';
import { ensureBaseImage, ensureDemoImage, inspectImage, offline, tryPull, type OnImageProgress } from './image-build.ts';
import { PodTable, startingPod } from './pod-table.ts';
import { waitForMcp } from './probe.ts';
import { notReady } from './start-failure.ts';
import type { BackendSpec, PodInfo, PodRuntime } from './runtime.ts';

/** Every container of a lab carries this label, its value the lab's id. */
export const LAB_LABEL = 'pinlab.lab';
const POD_LABEL = 'pinlab.pod';
const OWNER_LABEL = 'pinlab.owner-pid';
export const DEFAULT_SOCKET = '/var/run/docker.sock';
const DEMO_PORT = 8080;
/** Where a command pod listens inside its container (each container has its own network). */
const COMMAND_PORT = 8080;
const PING_TIMEOUT_MS = 2000;
const RECONNECT_MS = 500;
/** How much output a removed container leaves behind for logs(). */
const KEPT_LOG_LINES = 500;

/** How a backend becomes a container. */
interface ContainerPlan {
  image: string;
  /** The image's own command when absent. */
  cmd?: string[];
  env: Record<string, string>;
  /** The port the server listens on inside the container. */
  port: number;
  path: string;
  workingDir?: string;
  binds?: string[];
}

interface Pod {
  info: PodInfo;
  backend: BackendSpec;
  /** The host port, kept across restarts so the address stays the same. */
  port: number;
  /** Set when the lab itself ends the container, so its death is not reported as a crash. */
  expectedExit: string | null;
  /** The signal of the container's last `kill` event: a `die` after it was a kill from outside. */
  signal: string | null;
  /** The output of the removed container, for logs(). */
  lastLogs: string;
}

/** The part of a Docker event this runtime reads. */
interface DockerEvent {
  Action?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** Pods as Docker containers, ports published on 127.0.0.1 only. */
export class DockerRuntime implements PodRuntime {
  readonly kind = 'docker';
  private readonly docker: Docker;
  private readonly labId: string;
  private readonly onImageProgress: OnImageProgress | undefined;
  private readonly pods = new PodTable<Pod>();
  readonly list = this.pods.list;
  readonly onEvent = this.pods.onEvent;
  private readonly readyTimeoutMs: number;
  private image: Promise<string> | null = null;
  private base: Promise<string> | null = null;
  /** The user's images, each checked (and pulled, when online) once. */
  private readonly userImages = new Map<string, Promise<string>>();
  private events: AbortController | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  /** The last event seen, so that a reconnected stream replays what it missed, and only that. */
  private lastEvent = { time: 0, timeNano: 0 };
  /** When the first stream began (seconds): where a reconnect replays from if no event came yet. */
  private followingSince = 0;
  private closed = false;

  private constructor(docker: Docker, labId: string, onImageProgress: OnImageProgress | undefined, readyTimeoutMs: number) {
    this.docker = docker;
    this.labId = labId;
    this.onImageProgress = onImageProgress;
    this.readyTimeoutMs = readyTimeoutMs;
  }

  /**
   * Connects to the engine (rejects when it does not answer within 2 s) and follows its
   * events. `readyTimeoutMs`: how long a pod has to answer MCP (default 20 s).
   */
  static async connect(options: { labId: string; socketPath?: string; onImageProgress?: OnImageProgress; readyTimeoutMs?: number }): Promise<DockerRuntime> {
    const socketPath = options.socketPath ?? DEFAULT_SOCKET;
    const started = Date.now();
    try {
      // A separate client with a timeout: the main one must not time out the event stream.
      await new Docker({ socketPath, timeout: PING_TIMEOUT_MS }).ping();
    } catch (error) {
      const reason = Date.now() - started >= PING_TIMEOUT_MS - 50 ? `no answer within ${PING_TIMEOUT_MS / 1000} s` : messageOf(error);
      throw new Error(`Docker is not reachable at ${socketPath}: ${reason}`, { cause: error });
    }
    const runtime = new DockerRuntime(new Docker({ socketPath }), options.labId, options.onImageProgress, options.readyTimeoutMs ?? 20_000);
    await runtime.follow();
    return runtime;
  }

  async removeOrphans(): Promise<number> {
    const containers = await this.docker.listContainers({ all: true, filters: { label: [LAB_LABEL] } });
    let removed = 0;
    for (const container of containers) {
      if (ownerGone(container.Labels[OWNER_LABEL]) && (await this.remove(container.Id))) removed++;
    }
    return removed;
  }

  async start(name: string, backend: BackendSpec): Promise<PodInfo> {
    this.pods.assertFree(name);
    return this.launch(name, backend, await freePort(), false);
  }

  async kill(name: string): Promise<void> {
    const pod = this.pods.get(name);
    pod.expectedExit = 'killed';
    await this.destroy(pod);
    this.pods.update(pod, 'dead', 'killed');
  }

  async restart(name: string): Promise<PodInfo> {
    const pod = this.pods.get(name);
    pod.expectedExit = 'restarted in place';
    await this.destroy(pod);
    this.pods.update(pod, 'dead', 'restarted in place');
    return this.launch(name, pod.backend, pod.port, true);
  }

  async pause(name: string): Promise<void> {
    const pod = this.pods.get(name);
    await this.docker.getContainer(pod.info.id).pause();
    this.pods.update(pod, 'paused', 'paused (docker pause)');
  }

  async unpause(name: string): Promise<void> {
    const pod = this.pods.get(name);
    await this.docker.getContainer(pod.info.id).unpause();
    this.pods.update(pod, 'ready', 'unpaused (docker unpause)');
  }

  /** The id (`sha256:…`) of the image the pod's container runs: what a bug report names. */
  async imageId(name: string): Promise<string | null> {
    const { Image } = await this.docker.getContainer(this.pods.get(name).info.id).inspect();
    return Image || null;
  }

  async logs(name: string, lines = 100): Promise<string> {
    const pod = this.pods.get(name);
    try {
      return await this.containerLogs(pod.info.id, lines);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      return lastLines(pod.lastLogs, lines);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnect) clearTimeout(this.reconnect);
    this.events?.abort();
    for (const pod of this.pods.values()) pod.expectedExit = 'lab stopped';
    const containers = await this.docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${this.labId}`] } });
    await Promise.all(containers.map((container) => this.remove(container.Id)));
    for (const pod of this.pods.values()) this.pods.update(pod, 'dead', 'lab stopped');
  }

  /** Creates and starts the container, then waits until it answers MCP. */
  private async launch(name: string, backend: BackendSpec, port: number, restarting: boolean): Promise<PodInfo> {
    let plan: ContainerPlan;
    let id: string;
    try {
      plan = await this.plan(name, backend);
      const container = await this.docker.createContainer({
        name: containerName(this.labId, name),
        Image: plan.image,
        Cmd: plan.cmd,
        Env: Object.entries(plan.env).map(([key, value]) => `${key}=${value}`),
        WorkingDir: plan.workingDir,
        Labels: { [LAB_LABEL]: this.labId, [POD_LABEL]: name, [OWNER_LABEL]: String(process.pid) },
        ExposedPorts: { [`${plan.port}/tcp`]: {} },
        HostConfig: { PortBindings: { [`${plan.port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] }, Binds: plan.binds },
      });
      id = container.id;
      // close() ran while this container was being made: it would outlive the lab.
      if (this.closed) {
        await this.remove(id);
        throw new Error('the lab is stopping');
      }
    } catch (error) {
      if (!restarting) this.pods.delete(name);
      const why = statusOf(error) === 404 && backend.kind === 'image' ? missingImage(backend.image) : messageOf(error);
      throw new Error(`pod ${name}: cannot create its container: ${why}`, { cause: error });
    }
    const pod: Pod = { info: startingPod(name, port, plan.path, id), backend, port, expectedExit: null, signal: null, lastLogs: '' };
    this.pods.set(pod);
    let started = false;
    try {
      await this.docker.getContainer(id).start();
      started = true;
      await waitForMcp(pod.info.url, { timeoutMs: this.readyTimeoutMs, isAlive: () => pod.info.state !== 'dead' });
    } catch (error) {
      const exit = started ? await this.exitOf(id) : '';
      pod.expectedExit = 'failed to start';
      await this.destroy(pod);
      if (restarting) this.pods.update(pod, 'dead', 'failed to start');
      else this.pods.delete(name);
      if (!started && backend.kind === 'command' && /executable file not found|no such file or directory/i.test(messageOf(error))) {
        throw new Error(
          `pod ${name}: the program "${plan.cmd?.[0]}" is not in the image ${plan.image}, where the docker runtime runs commands ` +
            `(the lab's Node image, with ${plan.workingDir} mounted read-only): use --runtime process, or run your server from an image (--server-image)`,
          { cause: error },
        );
      }
      throw notReady(name, pod.info.url, exit ? `its container ${exit}` : null, pod.lastLogs, error);
    }
    this.pods.update(pod, 'ready', 'started');
    return { ...pod.info };
  }

  /** What runs in the container, for each kind of backend. */
  private async plan(name: string, backend: BackendSpec): Promise<ContainerPlan> {
    switch (backend.kind) {
      case 'demo':
        return {
          image: await this.demoImage(),
          cmd: ['node', 'app/demo-backend/main.ts', ...demoArgs(name, backend, '0.0.0.0', DEMO_PORT)],
          env: { POD_NAME: name }, port: DEMO_PORT, path: DEMO_MCP_PATH,
        };
      case 'image':
        return { image: await this.userImage(backend.image), env: { PORT: String(backend.port), POD_NAME: name, ...backend.env }, port: backend.port, path: backend.path };
      case 'command': {
        // The command runs on the lab's Node image, in the user's folder mounted at the same
        // path (read-only), so that the paths in it mean what they mean on the host.
        const cwd = backend.cwd ?? process.cwd();
        if (!existsSync(cwd)) throw new Error(`the command's working directory ${cwd} does not exist`);
        const { args, env } = commandWithPort(name, backend, COMMAND_PORT);
        return {
          image: await this.baseImage(),
          cmd: [containerProgram(backend.command), ...args],
          env,
          port: COMMAND_PORT, path: backend.path, workingDir: cwd, binds: [`${cwd}:${cwd}:ro`],
        };
      }
    }
  }

  private demoImage(): Promise<string> {
    this.image ??= ensureDemoImage(this.docker, { onProgress: this.onImageProgress }).catch((error: unknown) => {
      this.image = null; // a later start tries again
      throw error;
    });
    return this.image;
  }

  private baseImage(): Promise<string> {
    this.base ??= ensureBaseImage(this.docker, this.onImageProgress).then(
      (base) => base.tag,
      (error: unknown) => {
        this.base = null;
        throw error;
      },
    );
    return this.base;
  }

  /** The user's image when it is here, or once pulled (unless offline); else says how to get it. */
  private userImage(image: string): Promise<string> {
    let ready = this.userImages.get(image);
    if (!ready) {
      ready = (async () => {
        if (await inspectImage(this.docker, image)) return image;
        if (await tryPull(this.docker, image, this.onImageProgress, 'pull')) return image;
        throw new Error(missingImage(image));
      })();
      ready.catch(() => this.userImages.delete(image)); // a later start looks again
      this.userImages.set(image, ready);
    }
    return ready;
  }

  /** SIGKILL, keep its output, remove: the container and its published port are gone. */
  private async destroy(pod: Pod): Promise<void> {
    const container = this.docker.getContainer(pod.info.id);
    try {
      await container.kill({ signal: 'SIGKILL' });
    } catch (error) {
      // 409: not running (dead already, or paused: the forced remove below kills it).
      if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
    }
    pod.lastLogs = await this.containerLogs(pod.info.id, KEPT_LOG_LINES).catch(() => pod.lastLogs);
    await this.remove(pod.info.id);
  }

  /** Force-removes a container; false when it was gone already. */
  private async remove(id: string): Promise<boolean> {
    try {
      await this.docker.getContainer(id).remove({ force: true });
      return true;
    } catch (error) {
      const status = statusOf(error);
      // 409: its removal is already under way.
      if (status === 404 || status === 409) return false;
      throw error;
    }
  }

  private async containerLogs(id: string, lines: number): Promise<string> {
    const raw = await this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false });
    return demultiplex(raw);
  }

  /** `exited with code N` when the container is no longer running, else nothing. */
  private async exitOf(id: string): Promise<string> {
    try {
      const { State } = await this.docker.getContainer(id).inspect();
      return State.Running ? '' : `exited with code ${State.ExitCode}${State.OOMKilled ? ' (out of memory)' : ''}`;
    } catch {
      return '';
    }
  }

  /** Follows the engine's events for this lab's containers; reconnects until close(). */
  private async follow(): Promise<void> {
    const controller = new AbortController();
    this.events = controller;
    const since = this.lastEvent.time || this.followingSince;
    const stream = await this.docker.getEvents({
      filters: { label: [`${LAB_LABEL}=${this.labId}`], type: ['container'] },
      ...(since ? { since } : {}),
      abortSignal: controller.signal,
    });
    this.followingSince ||= Math.floor(Date.now() / 1000);
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        if (!line) continue;
        try {
          this.handle(JSON.parse(line) as DockerEvent);
        } catch {
          // not an event: skip it rather than lose the stream
        }
      }
    });
    let ended = false;
    const onEnd = () => {
      if (ended || this.closed) return;
      ended = true;
      controller.abort();
      this.scheduleFollow();
    };
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  }

  private scheduleFollow(): void {
    this.reconnect = setTimeout(() => {
      this.reconnect = null;
      if (!this.closed) this.follow().catch(() => this.scheduleFollow());
    }, RECONNECT_MS);
  }

  private handle(event: DockerEvent): void {
    const timeNano = event.timeNano ?? 0;
    if (timeNano && timeNano <= this.lastEvent.timeNano) return; // replayed after a reconnect
    this.lastEvent = { time: event.time ?? this.lastEvent.time, timeNano };
    const pod = this.pods.byId(event.Actor?.ID ?? event.id);
    if (!pod) return;
    const attributes = event.Actor?.Attributes ?? {};
    switch (event.Action) {
      case 'kill':
        pod.signal = attributes.signal ?? null;
        break;
      case 'die': {
        const outside = pod.signal ? `killed outside the lab (signal ${pod.signal})` : `exited with code ${attributes.exitCode ?? '?'}`;
        this.pods.update(pod, 'dead', pod.expectedExit ?? outside);
        break;
      }
      case 'stop':
      case 'destroy':
        this.pods.update(pod, 'dead', pod.expectedExit ?? 'container died');
        break;
      case 'pause':
        this.pods.update(pod, 'paused', 'paused');
        break;
      case 'unpause':
        this.pods.update(pod, 'ready', 'unpaused');
        break;
      case 'start':
        // Our own starts are 'starting' already; a dead pod started from outside (docker start) comes back.
        if (pod.info.state === 'dead') {
          pod.expectedExit = null;
          pod.signal = null;
          this.pods.update(pod, 'starting', 'started outside the lab');
          waitForMcp(pod.info.url, { timeoutMs: this.readyTimeoutMs, isAlive: () => pod.info.state === 'starting' }).then(
            () => this.pods.update(pod, 'ready', 'answers again'),
            () => {},
          );
        }
        break;
    }
  }

}

/** Docker multiplexes a non-TTY container's stdout and stderr into 8-byte-headed frames. */
export function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset];
    if (stream !== 0 && stream !== 1 && stream !== 2) return raw.toString('utf8'); // not multiplexed (TTY)
    const size = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

function lastLines(text: string, lines: number): string {
  return text.replace(/\n$/, '').split('\n').slice(-lines).join('\n');
}

/** What to do about an image that is not here: the lab builds only its own. */
function missingImage(image: string): string {
  const pulled = offline() ? 'the lab pulls nothing when offline (PINLAB_OFFLINE=1)' : 'it could not be pulled';
  return `the image ${image} is not present locally and ${pulled}: build it (docker build -t ${image} .), load it (docker load -i FILE.tar) or pull it (docker pull ${image}), then start again`;
}

/** The host's own Node binary means the image's `node`: a host path is not in the image. */
function containerProgram(command: string): string {
  return command === process.execPath || command === hostNode().path ? 'node' : command;
}

/** A container name people can read in `docker ps`; unique per lab and pod. */
function containerName(labId: string, pod: string): string {
  return `pinlab-${labId}-${pod}`.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

