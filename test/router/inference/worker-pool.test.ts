/**
 * The worker pool's mechanics (least-busy dispatch, restart, retry, timeout, drain) against a fake
 * worker that speaks python/worker.py's protocol without loading MLflow, so each case takes
 * milliseconds. The real worker with real MLflow models is exercised in test/router/serve.test.ts.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVIRONMENTS, venvPython } from '../../../src/python/bootstrap.js';
import { ModelCache, WorkerPool, WorkerPoolError, type ModelSpec } from '../../../src/router/inference/index.js';
import { tempDir } from '../../helpers/config.js';

const FAKE_WORKER = String.raw`
import json, os, sys, time, threading
out = os.fdopen(os.dup(1), "wb"); os.dup2(2, 1)
lock = threading.Lock()
def send(m):
    with lock:
        out.write((json.dumps(m) + "\n").encode()); out.flush()
models = {}
send({"event": "ready", "pid": os.getpid()})
for line in sys.stdin:
    r = json.loads(line)
    op = r["op"]
    if op == "load":
        if "broken" in r["uri"]:
            send({"id": r["id"], "ok": False, "error": {"type": "OSError", "message": "no such artifact"}})
            continue
        models[r["key"]] = True
        send({"id": r["id"], "ok": True, "classes": ["a", "b"], "features": None, "load_ms": 1, "source": "registry"})
    elif op == "predict":
        if r["key"] not in models:
            send({"id": r["id"], "ok": False, "error": {"type": "LookupError", "message": "not loaded"}}); continue
        first = r["rows"][0][0]
        if first == 999:  # what python/worker.py wrote before it refused NaN: a reply that is not JSON
            out.write(('{"id": %d, "ok": true, "predictions": [{"prediction": "a", "probabilities": {"a": NaN, "b": NaN}}]}\n' % r["id"]).encode()); out.flush()
            continue
        if first < 0:
            time.sleep(-first)  # a slow batch: -N sleeps N seconds
        reply = {"id": r["id"], "ok": True, "predictions": [{"prediction": "a" if row[0] < 5 else "b", "probabilities": {"a": 0.5, "b": 0.5}, "pid": os.getpid()} for row in r["rows"]]}
        if first == 3:
            reply["compute_ms"] = 1.25  # the model's own time, as python/worker.py reports it
        if first == 4:
            reply["compute_ms"] = "soon"  # not a number: the pool says NaN
        send(reply)
    elif op == "unload":
        models.pop(r["key"], None); send({"id": r["id"], "ok": True})
`;

const dir = tempDir('driftgate-pool-');
const script = path.join(dir, 'fake_worker.py');
writeFileSync(script, FAKE_WORKER);
const python = venvPython(ENVIRONMENTS.train.venvDir);
const cache = new ModelCache(path.join(dir, 'models'), 'http://registry.test', 'm');
cache.open();
const spec: ModelSpec = { key: '1', uri: 'models:/m/1', columns: [{ name: 'x', type: 'numeric' }] };
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

const pools: WorkerPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close(2000);
});

async function startPool(options: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}): Promise<{ pool: WorkerPool; restarts: number[] }> {
  const restarts: number[] = [];
  const pool = new WorkerPool({ size: 2, script, cache, restartDelayMs: { initial: 50, max: 200 }, onRestart: (slot) => restarts.push(slot), ...options });
  pools.push(pool);
  pool.start(quiet, python);
  await pool.load(spec);
  // Both workers hold the model before a test starts.
  while (!pool.info().every((w) => w.models.includes('1'))) await sleep(20);
  return { pool, restarts };
}

/** The fake worker adds its pid to each prediction. */
const pidsOf = (predictions: readonly object[]): number[] => predictions.map((p) => (p as { pid: number }).pid);

describe('WorkerPool', () => {
  it('loads a model on every worker and spreads batches over the least busy', async () => {
    const { pool } = await startPool();
    expect(pool.info().map((w) => [w.slot, w.state, w.models])).toEqual([
      [0, 'ready', ['1']],
      [1, 'ready', ['1']],
    ]);
    const answers = await pool.predict('1', [[1], [7]]);
    expect(answers).toMatchObject([{ prediction: 'a' }, { prediction: 'b' }]);
    // Two slow batches at once go to two different workers.
    const [x, y] = await Promise.all([pool.predict('1', [[-0.3]]), pool.predict('1', [[-0.3]])]);
    expect(new Set([...pidsOf(x!), ...pidsOf(y!)]).size).toBe(2);
  });

  it('hands the model’s own time for the batch (compute_ms) to a caller that asks, NaN when the worker gives none or a bad one', async () => {
    const { pool } = await startPool();
    const timing = { computeMs: -1 };
    expect(await pool.predict('1', [[3], [7]], timing)).toMatchObject([{ prediction: 'a' }, { prediction: 'b' }]);
    expect(timing.computeMs).toBe(1.25);
    await pool.predict('1', [[4]], timing);
    expect(timing.computeMs).toBeNaN();
    timing.computeMs = 0;
    await pool.predict('1', [[1]], timing);
    expect(timing.computeMs).toBeNaN();
  });

  it('retries the batches of a worker killed mid-flight on the other one and restarts it', async () => {
    const { pool, restarts } = await startPool();
    const before = pool.info().map((w) => w.pid);
    const inflight = Array.from({ length: 6 }, () => pool.predict('1', [[-0.5], [1]]));
    await sleep(100);
    process.kill(before[0]!, 'SIGKILL');
    const answers = await Promise.all(inflight);
    expect(answers.every((a) => a.length === 2)).toBe(true);
    expect(new Set(answers.flatMap(pidsOf))).toEqual(new Set([before[1]]));
    expect(restarts).toEqual([0]);
    expect(pool.restarts).toBe(1);
    // The replacement comes up and reloads the model by itself.
    while (!(pool.info()[0]!.state === 'ready' && pool.info()[0]!.models.includes('1'))) await sleep(20);
    expect(pool.info()[0]!.pid).not.toBe(before[0]);
  });

  it('fails, never hangs, the batches of two workers that both die', async () => {
    const { pool } = await startPool();
    const pids = pool.info().map((w) => w.pid!);
    const inflight = Array.from({ length: 4 }, () => pool.predict('1', [[-2]]).then(() => 'ok', (e: WorkerPoolError) => `${e.kind}`));
    await sleep(100);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    expect(await Promise.all(inflight)).toEqual(['worker-died', 'worker-died', 'worker-died', 'worker-died']);
  });

  it('kills a worker that does not answer in time and fails the batch after one retry', async () => {
    const { pool } = await startPool({ predictTimeoutMs: 300 });
    const started = Date.now();
    const error = await pool.predict('1', [[-5]]).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(WorkerPoolError);
    expect((error as WorkerPoolError).kind).toBe('timeout');
    // The first worker timed out and was killed; the retry timed out on the second one.
    expect((error as WorkerPoolError).message).toMatch(/^inference worker \d \(pid \d+\) did not answer predict within 300 ms; restarting it$/);
    // Both hung workers were killed; their exits are handled a moment later.
    while (pool.restarts < 2 && Date.now() - started < 5000) await sleep(20);
    expect(pool.restarts).toBe(2);
  });

  it('fails a batch whose reply is not JSON at once, without a retry or a restart, and the worker serves on', async () => {
    const { pool, restarts } = await startPool();
    const pids = pool.info().map((w) => w.pid);
    const started = Date.now();
    const error = (await pool.predict('1', [[999]]).catch((e: unknown) => e)) as WorkerPoolError;
    expect(Date.now() - started).toBeLessThan(500);
    expect(error).toBeInstanceOf(WorkerPoolError);
    expect(error.kind).toBe('bad-reply');
    expect(error.message).toMatch(/^inference worker \d \(pid \d+\) sent a reply that is not JSON: \{"id": \d+, "ok": true, "predictions": \[\{"prediction": "a", "probabilities": \{"a": NaN, "b": NaN\}\}\]\}$/);
    expect(await pool.predict('1', [[1], [7]])).toMatchObject([{ prediction: 'a' }, { prediction: 'b' }]);
    expect(restarts).toEqual([]);
    expect(pool.info().map((w) => w.pid)).toEqual(pids);
  });

  it('reports a model that cannot be loaded and does not keep it', async () => {
    const { pool } = await startPool();
    const error = await pool.load({ key: '9', uri: 'models:/broken/9', columns: [] }).catch((e: unknown) => e);
    expect((error as WorkerPoolError).kind).toBe('model-error');
    expect((error as WorkerPoolError).message).toBe('loading models:/broken/9 failed: OSError: no such artifact');
    expect(pool.serves('9')).toBe(false);
    await expect(pool.predict('9', [[1]])).rejects.toThrow('no inference worker has model 9 loaded');
  });

  it('unloads a model only after its in-flight batches finish', async () => {
    const { pool } = await startPool();
    // A batch that sleeps 0.4 s in the worker; unload asked for while it runs.
    const slow = pool.predict('1', [[-0.4]]);
    const unloaded = pool.unload('1').then(() => 'unloaded' as const);
    // 0.2 s later the batch still runs, so the unload still waits. (Timestamps taken in the two callbacks
    // would not do: the unload may resolve a microtask before the caller's callback, in the same or the
    // previous millisecond.)
    expect(await Promise.race([unloaded, sleep(200).then(() => 'waiting' as const)])).toBe('waiting');
    await slow;
    expect(await unloaded).toBe('unloaded');
    expect(pool.serves('1')).toBe(false);
  });

  it('close() stops the workers and keeps the model files for the next start', async () => {
    const { pool } = await startPool();
    const pids = pool.info().map((w) => w.pid!);
    await pool.close(2000);
    pools.splice(pools.indexOf(pool), 1);
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
    expect(existsSync(cache.dir)).toBe(true);
  });
});
