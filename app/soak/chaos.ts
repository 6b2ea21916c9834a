import { setTimeout as sleep } from 'node:timers/promises';
import { messageOf } from '../../proxy-core/errors.ts';
import type { Lab } from '../lab.ts';

/** How often each kind of chaos strikes, and when first (ms from the start). */
export interface ChaosSchedule {
  /** A pod killed (the lab's controller starts a replacement at a new address). */
  killPod: { everyMs: number; firstMs: number };
  /** A pod paused (docker pause / SIGSTOP) for `forMs`, then unpaused. */
  pausePod: { everyMs: number; firstMs: number; forMs: number };
  /** A replica restarted as a rollout would (drained, then memory gone), in turn. */
  restartReplica: { everyMs: number; firstMs: number };
  /** Redis stopped and started again: it comes back empty (no persistence). */
  restartRedis: { everyMs: number; firstMs: number };
}

/**
 * The rhythm: a kill every 2 s, a 5 s pause every 7 s, a replica restart every 5 s,
 * a Redis restart every 60 s — the first one half-way through that minute, so that a
 * 1-minute soak has one too.
 */
export const CHAOS_SCHEDULE: ChaosSchedule = {
  killPod: { everyMs: 2000, firstMs: 2000 },
  pausePod: { everyMs: 7000, firstMs: 7000, forMs: 5000 },
  restartReplica: { everyMs: 5000, firstMs: 5000 },
  restartRedis: { everyMs: 60_000, firstMs: 30_000 },
};

export type ChaosKind = keyof ChaosSchedule;

/** What the chaos did, per kind. */
export interface ChaosCounts {
  done: Record<ChaosKind, number>;
  /** Kills and pauses not made because no pod could be spared (one must stay up, unpaused). */
  skipped: Record<ChaosKind, number>;
  /** Steps that threw or outlived their bound, with why (the first few). */
  failed: number;
  failures: string[];
}

/** No step may take longer than this: a hung engine call must not hold the soak. */
const STEP_BOUND_MS = 30_000;

/**
 * Runs the four chaos loops on `lab` until `deadline` (epoch ms); each loop stops by itself,
 * finishing its step under way (a paused pod is unpaused).
 */
export async function runChaos(lab: Lab, deadline: number, schedule: ChaosSchedule = CHAOS_SCHEDULE): Promise<ChaosCounts> {
  const counts: ChaosCounts = {
    done: { killPod: 0, pausePod: 0, restartReplica: 0, restartRedis: 0 },
    skipped: { killPod: 0, pausePod: 0, restartReplica: 0, restartRedis: 0 },
    failed: 0,
    failures: [],
  };
  /** Pods a loop is working on: the other loop leaves them alone. */
  const claimed = new Set<string>();
  /**
   * Runs `work` on a ready pod nobody has claimed, one that leaves at least one other ready
   * and unclaimed; false when there is none to spare. The pod is claimed meanwhile.
   */
  const onSparePod = async (work: (pod: string) => Promise<void>): Promise<boolean> => {
    const free = lab.pods().filter((p) => p.state === 'ready' && !claimed.has(p.name));
    if (free.length < 2) return false;
    const pod = free[Math.floor(Math.random() * free.length)]!.name;
    claimed.add(pod);
    try {
      await work(pod);
    } finally {
      claimed.delete(pod);
    }
    return true;
  };
  let nextReplica = 0;

  const steps: Record<ChaosKind, () => Promise<boolean>> = {
    killPod: () => onSparePod((pod) => lab.killPod(pod)),
    pausePod: () => onSparePod(async (pod) => {
      await lab.pausePod(pod);
      try {
        await sleep(schedule.pausePod.forMs);
      } finally {
        // Unpaused whatever happened, or the lab could not stop it; a pod that died meanwhile stays dead.
        if (lab.pods().some((p) => p.name === pod && p.state === 'paused')) await lab.unpausePod(pod);
      }
    }),
    restartReplica: async () => {
      const running = lab.replicaList().filter((r) => r.state === 'running');
      const replica = running[nextReplica++ % Math.max(1, running.length)];
      if (!replica) return false;
      await lab.restartReplica(replica.id);
      return true;
    },
    restartRedis: async () => {
      await lab.stopRedis();
      await lab.startRedis();
      return true;
    },
  };

  const loop = async (kind: ChaosKind) => {
    const { everyMs, firstMs } = schedule[kind];
    for (let at = Date.now() + firstMs; at < deadline; at += everyMs) {
      await sleep(Math.max(0, at - Date.now()));
      try {
        const done = await bounded(steps[kind](), `${kind} step`);
        counts[done ? 'done' : 'skipped'][kind]++;
      } catch (error) {
        counts.failed++;
        if (counts.failures.length < 5) counts.failures.push(`${kind}: ${messageOf(error)}`);
      }
      // A step that ran late does not make the next ones pile up.
      while (at + everyMs < Date.now()) at += everyMs;
    }
  };
  await Promise.all((Object.keys(schedule) as ChaosKind[]).map(loop));
  return counts;
}

function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${STEP_BOUND_MS / 1000} s`)), STEP_BOUND_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
