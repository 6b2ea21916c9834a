/** Whether a process exists (EPERM: it does, but is someone else's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a pod was left behind by a lab that is gone: the lab's process, `ownerPid`, no
 * longer runs. A pod without a valid owner pid is not provably a leftover: it is not one.
 */
export function ownerGone(ownerPid: number | string | undefined): boolean {
  const pid = Number(ownerPid);
  return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
}
