import { setTimeout as sleep } from 'node:timers/promises';
import type { LabConfig, LabConfigInput } from '../config.ts';
import type { ClientSeen } from '../ingress/ingress.ts';
import { Lab } from '../lab.ts';
import type { ClientFault } from '../shared/client-faults.ts';
import { shortId } from '../shared/names.ts';
import type { ClientCheckResult } from './check.ts';
import { ClientProgram, withUrl } from './program.ts';

export interface ClientCheckRunOptions {
  /** The client's command line (split, no shell), `{url}` where the ingress URL goes. */
  command: readonly string[];
  faults?: readonly ClientFault[];
  recoverWithinMs?: number;
  /** How long the program has to open a session through the ingress (default 30 s). */
  connectWithinMs?: number;
  onProgress?: (message: string) => void;
}

export interface ClientCheckRun extends ClientCheckResult {
  config: LabConfig;
  runtime: string;
  /** Where the client program was pointed (the lab is gone once the run returns). */
  ingressUrl: string;
}

/**
 * `pinlab client-check`: starts a lab, runs the client program against its ingress, waits
 * for the program's session, aims the faults at it one by one (starting the program again
 * when a fault left it broken), then stops the program and the lab — whatever happens.
 */
export async function runClientCheck(config: LabConfigInput, options: ClientCheckRunOptions): Promise<ClientCheckRun> {
  const lab = await Lab.start({ ...config, ingressPort: config.ingressPort ?? 0 });
  try {
    const program = new ClientProgram(withUrl(options.command, lab.ingressUrl));
    try {
      const connected = firstClient(lab, program, options.connectWithinMs ?? 30_000);
      program.start();
      const seen = await connected;
      options.onProgress?.(`client ${seen.clientInfo.name} ${seen.clientInfo.version} opened session ${shortId(seen.sessionId)} through ${lab.ingressUrl}`);
      const result = await lab.checkClient({ clientName: seen.clientInfo.name }, {
        faults: options.faults, recoverWithinMs: options.recoverWithinMs, onProgress: options.onProgress, restartClient: () => program.restart(),
      });
      return { ...result, config: lab.config, runtime: lab.runtimeNote, ingressUrl: lab.ingressUrl };
    } finally {
      await program.stop();
    }
  } finally {
    await lab.stop();
  }
}

/** The first client from outside that opens a session; an error with its output when it exits or never does. */
async function firstClient(lab: Lab, program: ClientProgram, timeoutMs: number): Promise<ClientSeen> {
  const found: { client?: ClientSeen } = {};
  const stop = lab.watch((event) => {
    if (event.type === 'client.seen' && !event.simulated && event.sessionId) found.client ??= event;
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (!found.client && Date.now() < deadline) {
      if (program.exit) throw new Error(`the client program ${program.exit} before it opened a session through ${lab.ingressUrl}${lastLines(program)}`);
      await sleep(50);
    }
    if (!found.client) throw new Error(`the client program opened no session through ${lab.ingressUrl} in ${timeoutMs / 1000} s: does it take the server URL where {url} is?${lastLines(program)}`);
    return found.client;
  } finally {
    stop();
  }
}

function lastLines(program: ClientProgram): string {
  const output = program.output();
  return output ? `\nits last output:\n${output}` : '';
}
