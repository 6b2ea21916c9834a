import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ServerUnderTest } from '../../../app/server/under-test.ts';
import type { LabStore, LabView } from './store.ts';

export const StoreContext = createContext<LabStore | null>(null);

export function useStore(): LabStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useStore outside <StoreContext.Provider>');
  return store;
}

/** The current view of the lab; re-renders at most once per animation frame. */
export function useLab(): LabView {
  const store = useStore();
  return useSyncExternalStore(store.subscribe, store.getView);
}

/** The server the pods run: from the live stream once the lab has identified it, else from the lab's status. */
export function useServer(): ServerUnderTest | null {
  const { snapshot, status } = useLab();
  return snapshot.server ?? status?.server ?? null;
}
