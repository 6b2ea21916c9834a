import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getBridge } from './api/bridge.ts';
import { App } from './App.tsx';
import { StoreContext } from './state/context.tsx';
import { LabStore } from './state/store.ts';
import './styles/base.css';
import './styles/layout.css';
import './styles/topology.css';
import './styles/panels.css';

const store = new LabStore(getBridge());
store.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
);
