import { SERVER_DEFAULTS } from '../../../app/config.ts';
import { splitCommandLine } from '../model/command-line.ts';
import type { ServerField, ServerForm, ServerKind } from '../model/server-form.ts';
import { Field } from '../ui/Field.tsx';

const KINDS: { kind: ServerKind; label: string; what: string }[] = [
  { kind: 'demo', label: 'demo backend', what: 'Pinlab\'s own stateful server (whoami, counter, slow)' },
  { kind: 'image', label: 'Docker image', what: 'your server\'s image, already on this machine' },
  { kind: 'command', label: 'command', what: 'your server as a program on this machine' },
];

interface Props {
  form: ServerForm;
  /** Messages for the fields that should show theirs now. */
  errors: Partial<Record<ServerField, string>>;
  onChange: (changes: Partial<ServerForm>) => void;
  onBlur: (field: ServerField) => void;
}

/** Which MCP server the pods run: the demo backend, or the user's own as an image or a command. Only the chosen kind's fields show. */
export function ServerFields({ form, errors, onChange, onBlur }: Props) {
  const text = (field: ServerField, testId: string, placeholder: string, mono = true) => (
    <input type="text" className={mono ? 'mono' : undefined} value={form[field]} placeholder={placeholder} spellCheck={false} aria-invalid={Boolean(errors[field])}
      onChange={(e) => onChange({ [field]: e.target.value })} onBlur={() => onBlur(field)} data-testid={testId} />
  );
  const split = splitCommandLine(form.command);
  const env = (
    <Field label="environment (optional)" hint="one KEY=value a line; blank lines and # comments skipped" error={errors.env} wide testId="start-env">
      <textarea className="mono" rows={2} value={form.env} placeholder="LOG_LEVEL=debug" spellCheck={false} aria-invalid={Boolean(errors.env)}
        onChange={(e) => onChange({ env: e.target.value })} onBlur={() => onBlur('env')} data-testid="start-env" />
    </Field>
  );
  const path = (
    <Field label="MCP path" hint="where the server answers MCP (Streamable HTTP)" error={errors.path} testId="start-path">
      {text('path', 'start-path', SERVER_DEFAULTS.path)}
    </Field>
  );

  return (
    <fieldset className="server-fields" data-testid="start-server">
      <legend>server under test</legend>
      <div className="kind-picker" role="radiogroup" aria-label="server under test">
        {KINDS.map((k) => (
          <label key={k.kind} className={`kind-option${form.kind === k.kind ? ' is-current' : ''}`} data-testid={`start-server-${k.kind}`}>
            <input type="radio" name="server-kind" value={k.kind} checked={form.kind === k.kind} onChange={() => onChange({ kind: k.kind })} />
            <span className="kind-label">{k.label}</span>
            <span className="kind-what">{k.what}</span>
          </label>
        ))}
      </div>

      {form.kind === 'image' && (
        <div className="server-grid">
          <Field label="image" hint="built or pulled beforehand: the lab pulls nothing" error={errors.image} wide testId="start-image">
            {text('image', 'start-image', 'my/mcp-server:1.0')}
          </Field>
          <Field label="port inside the container" hint="published on 127.0.0.1 only" error={errors.port} testId="start-port">
            <input type="text" inputMode="numeric" className="mono" value={form.port} placeholder="8080" aria-invalid={Boolean(errors.port)}
              onChange={(e) => onChange({ port: e.target.value })} onBlur={() => onBlur('port')} data-testid="start-port" />
          </Field>
          {path}
          {env}
        </div>
      )}

      {form.kind === 'command' && (
        <div className="server-grid">
          <Field label="command line" error={errors.command} wide testId="start-command"
            hint={'command' in split
              ? <>runs <code>{split.command}</code> with {split.args.length} argument{split.args.length === 1 ? '' : 's'}, no shell; relative paths are from where Pinlab was started</>
              : 'the program and its arguments; quote with \' or ", escape with \\'}>
            {text('command', 'start-command', 'node dist/server.js --stateless')}
          </Field>
          <Field label="port variable" error={errors.portEnv} testId="start-port-env"
            hint={<>each pod gets a free port in this variable, and wherever the command says <code>{'{port}'}</code></>}>
            {text('portEnv', 'start-port-env', SERVER_DEFAULTS.portEnv)}
          </Field>
          {path}
          {env}
        </div>
      )}
    </fieldset>
  );
}
