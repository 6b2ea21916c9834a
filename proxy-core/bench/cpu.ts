// CPU time of processes, read from /proc, and pinning them to cores with taskset: what the
// bench needs to say what a request costs the proxy, apart from what it costs the machine.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`; 100 on Linux). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces). */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone, or no /proc
  }
}

/** CPU time in microseconds, user and system apart. */
export interface CpuTimes {
  user: number;
  sys: number;
}

/** A process's CPU time so far, in microseconds; null when it is gone or there is no /proc. */
export function cpuTimes(pid: number): CpuTimes | null {
  const fields = statFields(pid);
  // After the name: state(0) ppid(1) … utime(11) stime(12).
  return fields ? { user: (Number(fields[11]) * 1e6) / TICKS, sys: (Number(fields[12]) * 1e6) / TICKS } : null;
}

/** A process's CPU time so far (user + system), in microseconds; null when it is gone or there is no /proc. */
export function cpuMicros(pid: number): number | null {
  const times = cpuTimes(pid);
  return times ? times.user + times.sys : null;
}

/** `pid` and all its descendants now (a `--workers` proxy is a primary and its workers). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!parents.has(ppid)) parents.set(ppid, []);
    parents.get(ppid)!.push(Number(entry));
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []));
  return tree;
}

/** The CPU time of a set of processes, summed (those gone since count as 0: read the set once, at the start). */
export function cpuOf(pids: readonly number[]): number {
  const { user, sys } = cpuTimesOf(pids);
  return user + sys;
}

/** `cpuOf`, user and system apart. */
export function cpuTimesOf(pids: readonly number[]): CpuTimes {
  const total = { user: 0, sys: 0 };
  for (const pid of pids) {
    const times = cpuTimes(pid);
    total.user += times?.user ?? 0;
    total.sys += times?.sys ?? 0;
  }
  return total;
}

/** Whether taskset (util-linux) is there to pin processes with. */
export function canPin(): boolean {
  return spawnSync('taskset', ['-V']).status === 0;
}

/** Pins every thread of `pids` to `cores` (e.g. "0" or "2-5"). */
export function pin(pids: readonly number[], cores: string): void {
  for (const pid of pids) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to cores ${cores}: ${result.stderr.trim()}`);
  }
}
