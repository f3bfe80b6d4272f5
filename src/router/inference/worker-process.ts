/**
 * One Python inference worker process (python/worker.py on the pinned environment): JSON lines on
 * its stdin and stdout, each request answered by id, a request that times out kills the worker (it is
 * hung) and fails; when the process exits, every request still waiting fails with why.
 */
import readline from 'node:readline';
import { execa } from 'execa';
import type { Logger } from '../../logger.js';
import { childEnv } from '../../process/child-env.js';
import { WorkerPoolError, type LoadedModel, type Reply, type WorkerState } from './protocol.js';

const STDERR_TAIL = 40;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

function spawnWorker(python: string, script: string, env: Record<string, string>) {
  return execa(python, [script], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    // The pool stops workers itself after their in-flight work; Linux's parent-death signal (set
    // in worker.py) and stdin EOF end them if the router dies. execa's cleanup would kill them on
    // the router's SIGTERM, before in-flight requests are answered.
    cleanup: false,
    reject: false,
    // Only what Python and the MLflow client need: workers unpickle registry models, which must not
    // read the router's secrets (DRIFTGATE_ADMIN_TOKEN, DRIFTGATE_REQUEST_KEY).
    env: childEnv({ inherit: ['python', 'mlflow'], extra: env }),
    extendEnv: false,
    forceKillAfterDelay: 2000,
  });
}

export class PythonWorker {
  state: WorkerState = 'starting';
  readonly pid: number | null;
  /** Models this worker can serve. */
  readonly loaded = new Set<string>();
  /** Loads in progress or done, so two callers share one load. */
  readonly loads = new Map<string, Promise<LoadedModel>>();
  predicts = 0;
  readyAt = 0;
  readonly started: Promise<void>;
  readonly exited: Promise<string>;
  private readonly child: ReturnType<typeof spawnWorker>;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrLines: string[] = [];
  private nextId = 1;

  constructor(
    readonly slot: number,
    options: { python: string; script: string; startTimeoutMs: number; env: Record<string, string> },
    private readonly logger: Logger,
  ) {
    this.child = spawnWorker(options.python, options.script, options.env);
    this.pid = this.child.pid ?? null;
    // Writing to a worker that just died raises EPIPE here; its exit is handled below.
    this.child.stdin.on('error', () => undefined);
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    readline.createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrLines.push(line);
      if (this.stderrLines.length > STDERR_TAIL) this.stderrLines.shift();
      logger.info({ worker: slot, pid: this.pid }, `[worker ${slot}] ${line}`);
    });
    this.exited = this.child.then((result) => {
      this.state = 'exited';
      const how = result.signal ? `was killed by ${result.signal}` : result.exitCode !== undefined ? `exited with status ${result.exitCode}` : `could not start (${result.shortMessage})`;
      const why = `inference worker ${slot} (pid ${this.pid ?? 'none'}) ${how}${this.stderrTail() ? `; last stderr lines:\n${this.stderrTail()}` : ''}`;
      for (const [id, pending] of this.pending) {
        if (pending.timer) clearTimeout(pending.timer);
        pending.reject(new WorkerPoolError('worker-died', why));
        this.pending.delete(id);
      }
      return why;
    });
    this.started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new WorkerPoolError('timeout', `inference worker ${slot} did not start within ${options.startTimeoutMs} ms`));
        this.kill();
      }, options.startTimeoutMs);
      this.onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      void this.exited.then((why) => {
        clearTimeout(timer);
        reject(new WorkerPoolError('worker-died', why));
      });
    });
    // A start failure is reported through `exited`; nobody has to await `started`.
    this.started.catch(() => undefined);
  }

  private onReady: () => void = () => undefined;

  stderrTail(): string {
    return this.stderrLines.slice(-10).join('\n');
  }

  private onLine(line: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(line) as Reply;
    } catch {
      this.onBadLine(line);
      return;
    }
    if (reply.event === 'ready') {
      this.state = 'ready';
      this.readyAt = Date.now();
      this.onReady();
      return;
    }
    const pending = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!pending || reply.id === undefined) return;
    this.pending.delete(reply.id);
    if (pending.timer) clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  /**
   * A line on the protocol channel that is not JSON (the worker prints everything else to stderr, so
   * this is a broken reply): fail the request it names at once (replies start with their id), or every
   * request waiting on this worker when it names none. Never wait for the timeout.
   */
  private onBadLine(line: string): void {
    const id = Number(/^\{"id":(\d+)[,}]/.exec(line)?.[1]);
    const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line;
    const error = new WorkerPoolError('bad-reply', `inference worker ${this.slot} (pid ${this.pid}) sent a reply that is not JSON: ${shown}`);
    this.logger.error({ event: 'worker_bad_reply', worker: this.slot, pid: this.pid, line: shown }, error.message);
    const failed = this.pending.has(id) ? [id] : [...this.pending.keys()];
    for (const key of failed) {
      const pending = this.pending.get(key)!;
      this.pending.delete(key);
      if (pending.timer) clearTimeout(pending.timer);
      pending.reject(error);
    }
  }

  /** Send one request; a timeout kills the worker (it is hung) and fails the request. */
  request(message: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.state === 'exited') {
        reject(new WorkerPoolError('worker-died', `inference worker ${this.slot} has exited`));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WorkerPoolError('timeout', `inference worker ${this.slot} (pid ${this.pid}) did not answer ${String(message.op)} within ${timeoutMs} ms; restarting it`));
        this.kill();
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Close stdin: the worker answers what it has read, then exits. Killed after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    if (this.state === 'exited') return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
