// CPU time of a process from /proc/<pid>/stat (Linux): utime + stime of all its threads.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond;

/** USER_HZ, the unit of utime/stime (100 on every mainstream Linux). */
export function clockTicksPerSecond() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

export function procAvailable() {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** CPU time used so far by `pid`, in microseconds, or null when it cannot be read. */
export function cpuMicros(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the full line (utime, stime) are 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicksPerSecond();
}

/** Snapshot of several pids' CPU time; `since(snapshot)` gives the sum of the deltas. */
export function cpuSnapshot(pids) {
  const start = new Map();
  for (const pid of pids) {
    const micros = cpuMicros(pid);
    if (micros !== null) start.set(pid, micros);
  }
  return {
    pids: [...start.keys()],
    /** Summed CPU µs since the snapshot of the pids still alive (null if none could be read). */
    since() {
      if (start.size === 0) return null;
      let total = 0;
      for (const [pid, before] of start) {
        const after = cpuMicros(pid);
        if (after !== null) total += after - before;
      }
      return total;
    },
  };
}

/** The command name of a pid (`postgres`, `redis-server`), or null. */
export function processName(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}
