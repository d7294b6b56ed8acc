// Owns one server process: its session directory, its pipes, its process group, its death.
// Spawn from a SpawnPlan; drain stderr continuously (bounded lines, a tail kept for errors);
// detect death on 'exit' (never 'close': a grandchild holding a pipe would hang us); stop with
// stdin EOF → grace → SIGTERM to the group → grace → SIGKILL; remove the session dir afterwards.
// Under isolation "namespaces" the process is bwrap: SIGTERM goes to the server's own group inside
// (bwrap itself would die of it and take the server down with SIGKILL, skipping its clean exit).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { McpmuxError } from '../errors.js';
import { LineDecoder } from '../jsonrpc/line-decoder.js';
import { WriteBatcher } from '../util/write-batcher.js';
import { resolveProgram, sandboxInit, signalOfCode } from './process-info.js';
import { sessionTmpDir, type SpawnPlan } from './spawn-plan.js';

const STDERR_LINE_BYTES = 8192;
const STDERR_TAIL_LINES = 20;
const STDERR_TAIL_CHARS = 500;
/** After 'exit', how long stdout may take to deliver what the server wrote before dying. */
const EXIT_FLUSH_MS = 50;
/** How long stop() waits for the session directory to be removed before it gives up on it. */
const REMOVE_WAIT_MS = 10_000;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the exit was asked for by stop(). */
  requested: boolean;
  /** The last lines the process wrote to stderr (each cut to 500 chars). */
  stderrTail: string[];
}

export interface ManagedChildOptions {
  plan: SpawnPlan;
  /** Created before spawn (with tmp/ inside), removed after the process is gone. */
  sessionDir?: string | undefined;
  /** Milliseconds between stop steps (docs/operations.md, "Shutdown": 2 s). */
  stopGraceMs?: number;
  /** Called once when the process is gone or failed to start (releases its uid). */
  onGone?: () => void;
}

export interface ManagedChildEvents {
  stdout: [chunk: Buffer];
  stderr: [line: string];
  exit: [info: ExitInfo];
}

export class ManagedChild extends EventEmitter<ManagedChildEvents> {
  readonly #plan: SpawnPlan;
  readonly #sessionDir: string | undefined;
  readonly #graceMs: number;
  #onGone: (() => void) | undefined;
  #child: ChildProcessWithoutNullStreams | undefined;
  #exit: ExitInfo | undefined;
  #exited: Promise<ExitInfo>;
  #resolveExited!: (info: ExitInfo) => void;
  #stopping: Promise<ExitInfo> | undefined;
  /** Removing the session directory after the exit (off the event loop); stop() awaits it. */
  #removal: Promise<void> | undefined;
  #stderrTail: string[] = [];
  #stderrLines = 0;
  /** Per event-loop iteration ('loop'): the requests of many HTTP connections in one write. */
  readonly #batch = new WriteBatcher('loop');

  constructor(options: ManagedChildOptions) {
    super();
    this.#plan = options.plan;
    this.#sessionDir = options.sessionDir;
    this.#graceMs = options.stopGraceMs ?? 2000;
    this.#onGone = options.onGone;
    this.#exited = new Promise((resolve) => (this.#resolveExited = resolve));
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Bytes written to the server's stdin that it has not read yet. */
  get stdinBufferedBytes(): number {
    return this.#child?.stdin.writableLength ?? 0;
  }

  get stderrLineCount(): number {
    return this.#stderrLines;
  }

  /** Resolves when the process has exited (whatever the cause). */
  get exited(): Promise<ExitInfo> {
    return this.#exited;
  }

  /** Spawns the process; throws McpmuxError('spawn_failed') when it cannot start. */
  start(): void {
    if (this.#child !== undefined) throw new Error('ManagedChild.start() called twice');
    const program = this.#plan.command[0]!;
    if (resolveProgram(program, this.#plan.env, this.#plan.cwd) === undefined) {
      this.#gone();
      throw new McpmuxError('spawn_failed', `command not found: ${program}`, { program });
    }
    try {
      this.#makeSessionDir();
    } catch (err) {
      this.#gone();
      throw err;
    }
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(this.#plan.file, [...this.#plan.args], {
        cwd: this.#plan.cwd,
        env: this.#plan.env,
        detached: true, // own session and process group: killed as a group
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      this.#removeSessionDir();
      this.#gone();
      throw new McpmuxError(
        'spawn_failed',
        `cannot spawn ${program}: ${String(err)}`,
        {},
        { cause: err },
      );
    }
    this.#child = child;
    child.stdin.on('error', () => {
      // EPIPE / ECONNRESET after the server closed its stdin: the exit path reports it.
    });
    child.stdout.on('data', (chunk: Buffer) => this.emit('stdout', chunk));
    this.#drainStderr(child);
    child.once('error', (err) => {
      // spawn failure (ENOENT for the wrapper, bad cwd): no 'exit' will follow
      if (child.pid === undefined) this.#onExit(127, null, `spawn error: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      // Give the last lines still in the stdout pipe a moment to arrive, but never wait on
      // 'close': a grandchild holding the pipe open would keep it from ever coming.
      // bwrap reports a server killed by signal N as exit code 128 + N: report the signal.
      const fromBwrap = this.#plan.isolation === 'namespaces' ? signalOfCode(code) : undefined;
      const finish = () =>
        fromBwrap === undefined ? this.#onExit(code, signal) : this.#onExit(null, fromBwrap);
      if (child.stdout.readableEnded) return finish();
      const timer = setTimeout(finish, EXIT_FLUSH_MS);
      child.stdout.once('end', () => {
        clearTimeout(timer);
        finish();
      });
    });
  }

  /** Writes to the server's stdin; false when the pipe is full (wait for drain()). */
  write(data: string): boolean {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || this.#exit !== undefined || stdin.writableEnded) return true;
    return this.#batch.write(stdin, data);
  }

  /** Resolves when stdin can take more (or the process is gone). */
  drain(): Promise<void> {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || !stdin.writableNeedDrain || this.#exit !== undefined) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        resolve();
      };
      stdin.once('drain', done);
      void this.#exited.then(done);
    });
  }

  pauseStdout(): void {
    this.#child?.stdout.pause();
  }

  resumeStdout(): void {
    this.#child?.stdout.resume();
  }

  /** Stop sequence of docs/operations.md, "Shutdown"; idempotent, resolves with the exit once the process is gone. */
  stop(): Promise<ExitInfo> {
    this.#stopping ??= this.#stopSequence();
    return this.#stopping;
  }

  async #stopSequence(): Promise<ExitInfo> {
    const child = this.#child;
    if (child === undefined) {
      this.#onExit(null, null);
      return this.#exited;
    }
    if (this.#exit === undefined) {
      child.stdin.end();
      if (!(await this.#waitExit(this.#graceMs))) {
        this.#killGroup('SIGTERM');
        if (!(await this.#waitExit(this.#graceMs))) this.#killGroup('SIGKILL');
      }
    }
    const info = await this.#exited;
    await this.#removal;
    return info;
  }

  async #waitExit(ms: number): Promise<boolean> {
    if (this.#exit !== undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
    try {
      return await Promise.race([this.#exited.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #killGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    // bwrap's child is the namespace's init, leader of the group the server runs in; the init
    // itself ignores SIGTERM from outside (no handler), the server gets it.
    const target =
      this.#plan.isolation === 'namespaces' && signal !== 'SIGKILL' ? sandboxInit(pid) : pid;
    try {
      process.kill(-(target ?? pid), signal);
    } catch {
      // the group is already gone
    }
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null, note?: string): void {
    if (this.#exit !== undefined) return;
    if (note !== undefined) this.#pushTail(note);
    // Whatever the server left behind in its group goes with it.
    this.#killGroup('SIGKILL');
    this.#gone();
    this.#removal = this.#removeSessionDirLater();
    this.#exit = {
      code,
      signal,
      requested: this.#stopping !== undefined,
      stderrTail: [...this.#stderrTail],
    };
    this.#resolveExited(this.#exit);
    this.emit('exit', this.#exit);
  }

  /** Runs onGone once. */
  #gone(): void {
    const onGone = this.#onGone;
    this.#onGone = undefined;
    onGone?.();
  }

  #drainStderr(child: ChildProcessWithoutNullStreams): void {
    const decoder = new LineDecoder({
      maxLineBytes: STDERR_LINE_BYTES,
      onLine: (line) => this.#stderrLine(line),
      onOverflow: () => this.#stderrLine(`[stderr line longer than ${STDERR_LINE_BYTES} bytes]`),
    });
    child.stderr.on('data', (chunk: Buffer) => decoder.push(chunk));
    child.stderr.on('end', () => decoder.end());
  }

  #stderrLine(line: string): void {
    this.#stderrLines++;
    this.#pushTail(line);
    if (this.listenerCount('stderr') > 0) this.emit('stderr', line);
  }

  #pushTail(line: string): void {
    this.#stderrTail.push(
      line.length > STDERR_TAIL_CHARS ? line.slice(0, STDERR_TAIL_CHARS) : line,
    );
    if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
  }

  #makeSessionDir(): void {
    const dir = this.#sessionDir;
    if (dir === undefined) return;
    try {
      mkdirSync(sessionTmpDir(dir), { recursive: true, mode: 0o700 });
      const runAs = this.#plan.runAs;
      if (runAs !== undefined) {
        chmodSync(dirname(dir), 0o711); // sandbox_dir: the session's uid must pass through it
        chownSync(dir, runAs.uid, runAs.gid);
        chownSync(sessionTmpDir(dir), runAs.uid, runAs.gid);
      }
    } catch (err) {
      throw new McpmuxError(
        'spawn_failed',
        `cannot create session directory ${dir}`,
        {},
        { cause: err },
      );
    }
  }

  /**
   * Removes the session directory on libuv's thread pool: a server that left thousands of files
   * in its HOME (an npm cache) must not stall every other session while they go. Resolves when
   * it is gone, or after REMOVE_WAIT_MS (best effort, like the synchronous removal).
   */
  async #removeSessionDirLater(): Promise<void> {
    const dir = this.#sessionDir;
    if (dir === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, REMOVE_WAIT_MS);
      timer.unref();
    });
    try {
      await Promise.race([
        rm(dir, { recursive: true, force: true }).catch(() => undefined),
        giveUp,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Removes the session directory at once (a spawn that failed: nothing else is waiting). */
  #removeSessionDir(): void {
    if (this.#sessionDir === undefined) return;
    try {
      rmSync(this.#sessionDir, { recursive: true, force: true });
    } catch {
      // best effort; a later sweep of sandbox_dir may remove it
    }
  }
}
