import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { endpointKey } from './service.ts';

/** `--backend-dns NAME:PORT[/path]`: a name whose A/AAAA records are the pods, and the port and MCP path they serve. */
export interface BackendDns {
  name: string;
  port: number;
  /** The pods' MCP path (default `/mcp`). */
  path: string;
}

/** What changed between two answers, as pods (`host:port`). */
export interface DnsChange {
  /** Every pod of the new answer. */
  pods: string[];
  added: string[];
  removed: string[];
}

export interface DnsListener {
  /** The answer changed (the first answer counts as a change): the pods' MCP URLs, sorted. */
  changed(urls: string[], change: DnsChange): void;
  /** A lookup failed; `kept` (pods) is the last good answer, still in use. `failures`: failed lookups in a row. */
  failed(message: string, failures: number, kept: string[]): void;
  /** A lookup answered again after `failures` failed ones. */
  restored(failures: number): void;
}

export interface DnsDiscoveryOptions {
  /** Milliseconds from the end of one lookup to the start of the next. */
  refreshMs: number;
  /** The server to ask (`host:port`, `[v6]:port`); null asks the system's (/etc/resolv.conf). */
  server: string | null;
}

const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/** Parses `NAME:PORT[/path]`; errors say what is wrong and what is expected. */
export function parseBackendDns(value: string): BackendDns {
  const example = 'e.g. mcp-backend.default.svc.cluster.local:3001/mcp';
  const match = /^([^:/]+):(\d{1,5})(\/.*)?$/.exec(value.trim());
  if (!match) throw new Error(`expected NAME:PORT or NAME:PORT/path (${example}), got "${value}"`);
  const [, name = '', portText = '', path = '/mcp'] = match;
  if (isIP(name)) throw new Error(`"${name}" is an address, not a name to resolve: use --backend http://${name}:${portText}${path}`);
  if (!HOST_NAME.test(name)) throw new Error(`"${name}" is not a DNS name (${example})`);
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new Error(`port ${port} of "${value}" is not from 1 to 65535`);
  if (/[?#\s]/.test(path)) throw new Error(`the path of "${value}" must be a plain path (no query, fragment or space)`);
  return { name, port, path };
}

/** Parses `--dns-server`: `ADDRESS:PORT` (`[v6]:PORT`), or an address alone for port 53. */
export function parseDnsServer(value: string): string {
  const text = value.trim();
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  const host = match ? (match[1] as string) : text;
  const port = match ? Number(match[2]) : 53;
  if (!isIP(host)) throw new Error(`expected a DNS server's IP address and port (e.g. 10.96.0.10:53 or [fd00::a]:53), got "${value}"`);
  if (port < 1 || port > 65535) throw new Error(`port ${port} of "${value}" is not from 1 to 65535`);
  return text;
}

/**
 * Pod discovery from a headless Service (DESIGN.md, "Scale beyond one machine"): looks up every
 * A and AAAA record of a name at start and every `refreshMs`, and tells the listener when the set
 * changes. A failed lookup — the server does not answer, or answers no address at all — keeps the
 * last good answer: a DNS hiccup or a moment without ready pods must not empty the service.
 * Names are looked up as given, without the search list: give the full name
 * (`NAME.NAMESPACE.svc.cluster.local`).
 */
export class DnsDiscovery {
  readonly target: BackendDns;
  private readonly options: DnsDiscoveryOptions;
  private readonly listener: DnsListener;
  private readonly resolver: Resolver;
  /** The pods (`host:port`) of the last good answer, sorted. */
  private pods: string[] = [];
  private answered = false;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(target: BackendDns, options: DnsDiscoveryOptions, listener: DnsListener) {
    this.target = target;
    this.options = options;
    this.listener = listener;
    // A server that does not answer fails the lookup within seconds (c-ares waits `timeout` per try, doubling), not minutes.
    this.resolver = new Resolver({ timeout: Math.max(100, Math.min(2000, Math.floor(options.refreshMs / 3))), tries: 2 });
    if (options.server) this.resolver.setServers([options.server]);
  }

  /** The pods' MCP URLs of the last good answer; empty before one. */
  get current(): string[] {
    return this.pods.map((pod) => this.urlOf(pod));
  }

  /** Looks the name up once now (the listener hears the outcome), then again every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  /** One lookup; the listener hears of a change, a failure, or a return after failures. */
  async refresh(): Promise<void> {
    let addresses: string[];
    try {
      addresses = await this.lookup();
    } catch (error) {
      if (this.closed) return;
      this.failures++;
      this.listener.failed((error as Error).message, this.failures, [...this.pods]);
      return;
    }
    if (this.closed) return;
    if (this.failures > 0) this.listener.restored(this.failures);
    this.failures = 0;
    const port = String(this.target.port);
    const pods = [...new Set(addresses.map((hostname) => endpointKey({ hostname, port })))].sort();
    const before = this.pods;
    if (this.answered && before.length === pods.length && before.every((pod, i) => pod === pods[i])) return;
    this.answered = true;
    this.pods = pods;
    const previous = new Set(before);
    const now = new Set(pods);
    this.listener.changed(this.current, { pods, added: pods.filter((p) => !previous.has(p)), removed: before.filter((p) => !now.has(p)) });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.resolver.cancel();
  }

  private urlOf(pod: string): string {
    return `http://${pod}${this.target.path}`;
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.options.refreshMs);
    this.timer.unref();
  }

  /** Every address of the name, IPv4 and IPv6; throws when neither family gives one. */
  private async lookup(): Promise<string[]> {
    const { name } = this.target;
    const answers = await Promise.allSettled([this.resolver.resolve4(name), this.resolver.resolve6(name)]);
    const addresses = answers.flatMap((answer) => (answer.status === 'fulfilled' ? answer.value : []));
    if (addresses.length > 0) return addresses;
    const reasons = answers.map((answer) => (answer.status === 'rejected' ? (answer.reason as NodeJS.ErrnoException).code ?? String(answer.reason) : 'no records'));
    const server = this.options.server ?? 'the system resolver';
    throw new Error(`no address for ${name} from ${server} (A: ${reasons[0]}, AAAA: ${reasons[1]})`);
  }
}
