/** The lab's named scenarios, said in a line each: one list for the lab, the CLI, the API and the UI. */
export const SCENARIO_CATALOG = [
  { name: 'pod-kill', description: 'Kill the pod holding the most sessions; the controller replaces it at a new address.' },
  {
    name: 'pod-hang',
    description: 'Pause the busiest pod for 10 s, then unpause it: it keeps its connections and answers nothing, as a hung pod does.',
  },
  { name: 'pod-restart-in-place', description: 'Restart the busiest pod at the same address: its memory, and every session on it, is gone.' },
  { name: 'runner-restart', description: 'Restart every proxy replica once, as a rollout does (each drained first): memory gone, open streams cut.' },
  { name: 'redis-outage', description: 'Stop Redis for 2 s (restarted empty), then let the replicas catch up.' },
  { name: 'scale-down', description: 'Scale the pods down to one: sessions on the removed pods must move.' },
  { name: 'rolling-restart', description: 'Restart the pods one after another, as a Deployment rollout does.' },
  {
    name: 'handle-leak',
    description: "Modern (2026-07-28) clients shop with the demo's cart handles: with carts in pod memory a handle minted on one pod fails on another; with carts in Redis, none does.",
  },
] as const;

export type ScenarioName = (typeof SCENARIO_CATALOG)[number]['name'];

export const SCENARIO_NAMES = SCENARIO_CATALOG.map((s) => s.name) as [ScenarioName, ...ScenarioName[]];

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as string[]).includes(name);
}
