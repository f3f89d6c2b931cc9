// Small synchronous /proc helpers for teardown paths that cannot await (the process 'exit' event).

import { readFileSync, readdirSync } from 'node:fs';

/** Live (not zombie) processes as { pid, pgid, cmdline }; empty where there is no /proc. */
export function listProcesses() {
  let names;
  try {
    names = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      out.push({ pid: Number(name), pgid: Number(pgrp), cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** Sleeps synchronously (only for exit paths). */
export function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls `stillThere()` every 50 ms until it is false or `timeoutMs` passed. Synchronous. */
export function waitSync(stillThere, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (stillThere() && Date.now() < deadline) sleepSync(50);
}
