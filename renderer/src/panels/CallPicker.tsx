import type { ReactNode } from 'react';
import type { LabStatus } from '../../../app/api/contract.ts';
import type { ClientsEra } from '../../../app/config.ts';
import type { ServerUnderTest, ToolInfo } from '../../../app/server/under-test.ts';
import { parseArgs, placeholderArgs, requiredSummary } from '../model/tool-args.ts';

/** What the simulated clients call: the lab's default, or one tool with its arguments (as typed). */
export interface CallChoice {
  /** '' for the lab's default. */
  tool: string;
  /** The arguments field's text, per tool: switching tools keeps what was typed. */
  args: Record<string, string>;
}

/** What the clients will call, ready for `traffic.start`, or why it is not ready. */
export function callOf(choice: CallChoice, tools: readonly ToolInfo[]): { call?: { tool: string; args: Record<string, unknown> } } | { error: string } {
  const tool = tools.find((t) => t.name === choice.tool);
  if (!tool) return {};
  const parsed = parseArgs(choice.args[tool.name] ?? argsText(tool));
  return 'error' in parsed ? parsed : { call: { tool: tool.name, args: parsed.args } };
}

function argsText(tool: ToolInfo): string {
  return JSON.stringify(placeholderArgs(tool));
}

/** What "default" means on this lab for clients of `era`, in words. */
function defaultCall(status: LabStatus, era: ClientsEra): string {
  if (status.config.call) return `${status.config.call.tool} (set at start)`;
  if (status.config.backend.kind !== 'demo') return era === 'modern' ? 'server/discover + tools/list' : 'ping + tools/list';
  // The demo's modern clients hold cart handles: what leaks when carts live in each pod's memory.
  const legacy = 'counter (its state-loss probe)';
  const modern = 'cart handles (cart.create, add, get)';
  return era === 'legacy' ? legacy : era === 'modern' ? modern : 'counter (legacy), cart handles (modern)';
}

interface Props {
  status: LabStatus;
  server: ServerUnderTest | null;
  choice: CallChoice;
  onChange: (choice: CallChoice) => void;
  /** The era of the clients the next start runs: what "default" calls depends on it. */
  era: ClientsEra;
  /** Shown first in the row (the era of the clients). */
  children?: ReactNode;
}

/**
 * What the simulated clients call, a row of the control bar: "default", or one of the server's
 * tools (from its `tools/list`) with its arguments as JSON — prefilled from its input schema,
 * a parse error shown inline. The lab checks the arguments against the schema at start.
 */
export function CallRow({ status, server, choice, onChange, era, children }: Props) {
  const tools = server?.tools ?? [];
  const tool = tools.find((t) => t.name === choice.tool);
  return (
    <div className="call-row" data-testid="traffic-call-row">
      {children}
      <label className="control-group" title={'What each simulated client calls. "default" is what every server answers; a tool is checked against its input schema when traffic starts. A change applies at the next start.'}>
        <span className="switch-label">each client calls</span>
        <select value={tool?.name ?? ''} onChange={(e) => onChange({ ...choice, tool: e.target.value })} data-testid="traffic-call" className="call-select">
          <option value="">default: {defaultCall(status, era)}</option>
          {tools.length > 0 && (
            <optgroup label={`tools of ${server?.name ?? 'the server'}`}>
              {tools.map((t) => <option key={t.name} value={t.name} title={t.description}>{t.name}{t.title && t.title !== t.name ? ` — ${t.title}` : ''}</option>)}
            </optgroup>
          )}
        </select>
      </label>
      {tool ? <ToolArgs tool={tool} choice={choice} onChange={onChange} />
        : <span className="control-note">{server ? `${tools.length} tool${tools.length === 1 ? '' : 's'} listed by ${server.name ?? 'the server'}` : 'the server\'s tools are read once its pods are up'}</span>}
    </div>
  );
}

function ToolArgs({ tool, choice, onChange }: { tool: ToolInfo; choice: CallChoice; onChange: (choice: CallChoice) => void }) {
  const text = choice.args[tool.name] ?? argsText(tool);
  const parsed = parseArgs(text);
  const hints = tool.annotations ?? {};
  return (
    <>
      <label className="call-args-field">
        <span className="switch-label">arguments</span>
        <input type="text" className="mono" value={text} spellCheck={false} aria-invalid={'error' in parsed} data-testid="traffic-args"
          onChange={(e) => onChange({ ...choice, args: { ...choice.args, [tool.name]: e.target.value } })} />
      </label>
      {'error' in parsed ? (
        <span className="field-error" data-testid="traffic-args-error">{parsed.error}</span>
      ) : (
        <span className="control-note" data-testid="traffic-args-summary" title={tool.description}>{tool.name} {requiredSummary(tool)}</span>
      )}
      {hints.readOnlyHint && <span className="badge" title="Annotated read-only: the proxy may replay it after a lost pod">read-only</span>}
      {hints.idempotentHint && <span className="badge" title="Annotated idempotent: the proxy may replay it after a lost pod">idempotent</span>}
      {hints.destructiveHint && <span className="badge badge-warn" title="Annotated destructive: every simulated client will call it, over and over">destructive</span>}
    </>
  );
}
