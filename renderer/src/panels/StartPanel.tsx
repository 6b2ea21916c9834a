import { useState } from 'react';
import { LAB_DEFAULTS, LIMITS, type AffinityPolicy, type LabConfig, type RuntimeChoice, type StoreKind } from '../../../app/config.ts';
import { describe } from '../../../app/shared/describe.ts';
import { AFFINITY_POLICIES, PINNINGS } from '../model/choices.ts';
import { clock } from '../model/format.ts';
import { checkServerForm, EMPTY_SERVER_FORM, FIELDS_OF, type ServerField, type ServerForm } from '../model/server-form.ts';
import { useLab } from '../state/context.tsx';
import { ActionButton, useCommand } from '../ui/ActionButton.tsx';
import { Field } from '../ui/Field.tsx';
import { BrokenCombos } from './BrokenCombos.tsx';
import { ServerFields } from './ServerFields.tsx';

type Form = Partial<Pick<LabConfig, 'replicas' | 'pods' | 'store' | 'runtime' | 'affinity' | 'pinning'>>;

/** What the lab uses when a field is left alone (the lab's own defaults win: only changed fields are sent). */
const SHOWN: Required<Form> = {
  replicas: LAB_DEFAULTS.replicas, pods: LAB_DEFAULTS.pods, store: LAB_DEFAULTS.store, runtime: LAB_DEFAULTS.runtime,
  affinity: LAB_DEFAULTS.affinity, pinning: LAB_DEFAULTS.pinning,
};
// One label per choice of the lab's schema (the types insist on every one), listed in this order.
const STORES: Record<StoreKind, string> = {
  redis: 'redis — shared by every replica',
  memory: 'memory — each replica its own',
};
const RUNTIMES: Record<RuntimeChoice, string> = {
  auto: 'auto — Docker if reachable, else local processes',
  docker: 'docker — each pod a container',
  process: 'process — each pod a local process',
};
const AFFINITIES = Object.fromEntries(Object.entries(AFFINITY_POLICIES).map(([policy, what]) => [policy, `${policy} — ${what}`])) as Record<AffinityPolicy, string>;

/** One of the lab's choices as a labelled select: an option per value, in the order `labels` lists them. */
function Choice<T extends string>({ label, value, labels, onChange, testId }: { label: string; value: T; labels: Record<T, string>; onChange: (value: T) => void; testId: string }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value as T)} data-testid={testId}>
        {Object.entries<string>(labels).map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}

/** No lab yet: what one is, and a Start button. While it starts: the image build and the pods coming up. */
export function StartPanel() {
  const { running, snapshot } = useLab();
  const run = useCommand();
  const [form, setForm] = useState<Form>({});
  const [server, setServer] = useState<ServerForm>(EMPTY_SERVER_FORM);
  // A field's message shows once it was left, or once Start was pressed: not while a person is still typing it.
  const [touched, setTouched] = useState<ReadonlySet<ServerField>>(new Set());
  const [tried, setTried] = useState(false);
  const starting = running.has('lab.start');
  const value = <K extends keyof Form>(key: K) => form[key] ?? SHOWN[key];
  const set = <K extends keyof Form>(key: K, v: Form[K]) => setForm((f) => ({ ...f, [key]: v }));

  const checked = checkServerForm(server);
  const errors = { ...checked.errors };
  if (server.kind === 'image' && value('runtime') === 'process') errors.image ??= 'an image runs on Docker: choose "docker" or "auto" under "pods run as"';
  const shown = Object.fromEntries(Object.entries(errors).filter(([field]) => tried || touched.has(field as ServerField)));
  // The Redis URL field shows (and counts) only with the Redis store.
  const redisShown = value('store') === 'redis';
  const fields: ServerField[] = [...FIELDS_OF[server.kind], ...(redisShown ? ['redisUrl' as const] : [])];
  const valid = !fields.some((field) => errors[field]);
  const { redisUrl: _redisUrl, ...withoutRedis } = checked.config;
  const start = () => {
    setTried(true);
    if (valid) void run('lab.start', 'lab.start', { ...form, ...(redisShown ? checked.config : withoutRedis) });
  };
  const progress = snapshot.recent.filter((e) => e.type === 'image.progress' || e.type === 'server.identified' || e.type === 'lab.log' || e.type === 'pod.changed' || e.type === 'redis.changed' || e.type === 'replica.changed');

  return (
    <section className="panel start-panel" aria-label="Start a lab">
      <h2>Start a lab</h2>
      <p>
        A lab is the shape of a production MCP deployment on this machine: an <b>ingress</b> spreads requests over <b>N proxy replicas</b>, which keep
        session records in a shared <b>session store</b> (Redis) and send each session to the <b>pod</b> it is pinned to, behind a <b>service</b>.
        Simulated clients send traffic; you break things and watch sessions move.
      </p>
      <form className="start-form" onSubmit={(e) => { e.preventDefault(); start(); }}>
        <label>
          proxy replicas
          <input type="number" min={LIMITS.replicas.min} max={LIMITS.replicas.max} value={value('replicas')} onChange={(e) => set('replicas', e.target.valueAsNumber)} data-testid="start-replicas" />
        </label>
        <label>
          pods
          <input type="number" min={LIMITS.pods.min} max={LIMITS.pods.max} value={value('pods')} onChange={(e) => set('pods', e.target.valueAsNumber)} data-testid="start-pods" />
        </label>
        <Choice label="session store" value={value('store')} labels={STORES} onChange={(v) => set('store', v)} testId="start-store" />
        <Choice label="pods run as" value={value('runtime')} labels={RUNTIMES} onChange={(v) => set('runtime', v)} testId="start-runtime" />
        <Choice label="ingress affinity" value={value('affinity')} labels={AFFINITIES} onChange={(v) => set('affinity', v)} testId="start-affinity" />
        <Choice label="a session pins" value={value('pinning')} labels={PINNINGS} onChange={(v) => set('pinning', v)} testId="start-pinning" />
        <BrokenCombos config={{ ...LAB_DEFAULTS, ...form }} testId="start-broken-combos" />
        {redisShown && (
          <Field label="external Redis URL (optional)" wide testId="start-redis-url" error={shown.redisUrl}
            hint="empty: the lab starts its own Redis and removes it at the end. An external one is shared as it is: the lab will not stop or flush it.">
            <input type="text" className="mono" value={server.redisUrl} placeholder="redis://127.0.0.1:6379" spellCheck={false} aria-invalid={Boolean(shown.redisUrl)}
              onChange={(e) => setServer((f) => ({ ...f, redisUrl: e.target.value }))} onBlur={() => setTouched((t) => new Set(t).add('redisUrl'))} data-testid="start-redis-url" />
          </Field>
        )}
        <ServerFields form={server} errors={shown} onChange={(changes) => setServer((f) => ({ ...f, ...changes }))}
          onBlur={(field) => setTouched((t) => new Set(t).add(field))} />
        <div className="start-actions">
          <ActionButton tone="primary" busyKey="lab.start" testId="start-lab" onClick={start}>
            {starting ? 'starting…' : 'Start lab'}
          </ActionButton>
          {tried && !valid && <span className="field-error" data-testid="start-invalid">fix the fields marked above first</span>}
        </div>
      </form>
      {starting && (
        <ol className="start-progress" data-testid="start-progress" aria-live="polite">
          {progress.length === 0 && <li className="card-dim">choosing where pods run…</li>}
          {progress.slice(-12).map((event, i) => (
            <li key={i}>
              <span className="mono card-dim">{clock(event.at)}</span> {describe(event, snapshot.pods).text}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
