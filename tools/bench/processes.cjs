'use strict';
// Child processes of a benchmark suite: each in its own process group, so stopping it stops
// everything it started, and all of them stopped however the suite ends (return, throw,
// Ctrl-C, or an exit nobody planned).
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

const KEEP_LINES = 40;
const STOP_GRACE_MS = 5000;

/** Every group still running, for the exit and signal handlers. */
const running = new Set();

function killGroup(proc, signal) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // Already gone.
  }
}

process.on('exit', () => {
  for (const proc of running) killGroup(proc, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    for (const proc of running) killGroup(proc, 'SIGKILL');
    process.exit(130);
  });
}

/**
 * The processes one suite starts. `start` them, and `stopAll()` in a `finally`.
 */
class Processes {
  constructor() {
    this.procs = [];
  }

  /**
   * Starts `command args` in a new process group, keeping its last output lines for error
   * messages. Resolves `exited` with { code, signal } when it ends.
   */
  start(label, command, args, { env = process.env, onLine } = {}) {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const proc = { label, child, pid: child.pid, lines: [], done: false, stdout: '' };
    proc.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        proc.done = true;
        running.delete(proc);
        resolve({ code: null, signal: null, error: err });
      });
      child.once('close', (code, signal) => {
        proc.done = true;
        running.delete(proc);
        resolve({ code, signal });
      });
    });
    const keep = (stream, whole) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        if (whole) proc.stdout += chunk;
        const parts = (partial + chunk).split('\n');
        partial = parts.pop();
        for (const line of parts) {
          proc.lines.push(line);
          if (proc.lines.length > KEEP_LINES) proc.lines.shift();
          if (onLine) onLine(line);
        }
      });
    };
    keep(child.stdout, true);
    keep(child.stderr, false);
    if (child.pid !== undefined) running.add(proc);
    this.procs.push(proc);
    return proc;
  }

  /** Runs `command args` to its end; rejects with its last output lines unless it exits 0. */
  async run(label, command, args, options) {
    const proc = this.start(label, command, args, options);
    const { code, signal, error } = await proc.exited;
    if (error) throw new Error(`${label}: cannot run ${command} (${error.code ?? error.message})`);
    if (code !== 0) {
      throw new Error(
        `${label} failed (${signal ? `signal ${signal}` : `exit code ${code}`}):\n${tail(proc)}`,
      );
    }
    return proc.stdout;
  }

  /** Stops one process's group: SIGTERM, then SIGKILL after a grace period. */
  async stop(proc) {
    if (proc.done) return;
    killGroup(proc, 'SIGTERM');
    let timer;
    const late = await Promise.race([
      proc.exited.then(() => false),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      killGroup(proc, 'SIGKILL');
      await proc.exited;
    }
  }

  /** Stops every process started, newest first (nodes before their coordinator). */
  async stopAll() {
    for (const proc of [...this.procs].reverse()) await this.stop(proc);
  }
}

/** The last output lines of a process, indented, for an error message. */
function tail(proc) {
  return proc.lines.map((l) => `    ${l}`).join('\n');
}

/** A TCP port free on 127.0.0.1 right now (the kernel's choice). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `ready` until it returns true; fails with `what` after `timeoutMs`, or as soon as
 * one of `watch` (processes that must stay up) has exited.
 */
async function waitFor(ready, what, { timeoutMs = 30_000, watch = [] } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = watch.find((p) => p.done);
    if (dead) throw new Error(`${dead.label} exited while waiting for ${what}:\n${tail(dead)}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * CPU seconds (user + system) a process has used, from /proc: busy time, so CPU per
 * request does not depend on what else the machine runs, unlike a rate.
 */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

module.exports = { Processes, cpuSeconds, freePort, waitFor, rssBytes, tail };
