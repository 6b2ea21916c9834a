import type { ReactNode } from 'react';
import type { Command, CommandArgs, CommandResult } from '../../../app/api/contract.ts';
import { useLab, useStore } from '../state/context.tsx';

/** Runs a lab command under a key; the key marks it as in flight for every button that shows it. */
export function useCommand() {
  const store = useStore();
  return <C extends Command>(key: string, command: C, args?: CommandArgs<C>): Promise<CommandResult<C> | undefined> => store.run(key, command, args);
}

interface Props {
  /** What marks this action as in flight (`pod.kill:pod-2`). */
  busyKey: string;
  onClick: () => void;
  children: ReactNode;
  title?: string;
  tone?: 'danger' | 'primary' | 'plain';
  disabled?: boolean;
  testId?: string;
  small?: boolean;
}

/** A button for one lab action: disabled with a spinner while that action runs. */
export function ActionButton({ busyKey, onClick, children, title, tone = 'plain', disabled, testId, small }: Props) {
  const busy = useLab().running.has(busyKey);
  return (
    <button
      type="button"
      className={`btn btn-${tone}${small ? ' btn-small' : ''}${busy ? ' is-busy' : ''}`}
      onClick={onClick}
      disabled={disabled || busy}
      aria-busy={busy}
      title={title}
      data-testid={testId}
    >
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}
