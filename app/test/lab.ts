import { afterEach } from 'vitest';
import type { LabEvent } from '../events.ts';
import { Lab } from '../lab.ts';

/**
 * Labs for the tests of one file: `startLab` starts one on the process runtime, on a free
 * ingress port, recording its events; every lab started is stopped after its test. Call it
 * at the top of a test file. `labs` lists the labs of the test under way.
 */
export function labsForEachTest(): {
  labs: Lab[];
  startLab: (config: Parameters<typeof Lab.start>[0]) => Promise<{ lab: Lab; events: LabEvent[] }>;
} {
  const labs: Lab[] = [];
  afterEach(async () => {
    await Promise.all(labs.splice(0).map((lab) => lab.stop()));
  });
  return {
    labs,
    async startLab(config) {
      const events: LabEvent[] = [];
      const lab = await Lab.start({ runtime: 'process', ingressPort: 0, ...config }, { onEvent: (e) => events.push(e) });
      labs.push(lab);
      return { lab, events };
    },
  };
}
