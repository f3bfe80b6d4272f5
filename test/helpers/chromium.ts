/**
 * Headless Chromium for browser tests: Debian's `chromium` package, found on PATH (`chromium`, else
 * `chromium-browser`) or installed with apt-get when missing (debian.ts), and driven over the DevTools
 * protocol through Node's own WebSocket: no npm package downloads a browser.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDebianProgram, tail } from './debian.js';

const NAMES = ['chromium', 'chromium-browser'];

/** Chromium's path, installing Debian's package first when it is missing. */
export function ensureChromium(log?: (line: string) => void): Promise<string> {
  return ensureDebianProgram('chromium', NAMES, 'the status page test', log);
}

type Json = Record<string, unknown>;
interface CdpMessage {
  id?: number;
  method?: string;
  params?: Json;
  result?: Json;
  error?: { message: string };
  sessionId?: string;
}

/** One WebSocket to the browser; page sessions are multiplexed on it (flat sessions). */
class Cdp {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Json) => void; reject: (e: Error) => void; method: string }>();
  private readonly listeners = new Set<(message: CdpMessage) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as CdpMessage;
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`${waiter.method}: ${message.error.message}`));
        else waiter?.resolve(message.result ?? {});
        return;
      }
      for (const listener of this.listeners) listener(message);
    });
    socket.addEventListener('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${waiter.method}: the DevTools connection closed`));
      this.pending.clear();
    });
  }

  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener('open', () => resolve(new Cdp(socket)), { once: true });
      socket.addEventListener('error', () => reject(new Error(`could not open the DevTools WebSocket ${url}`)), { once: true });
    });
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(listener: (message: CdpMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.socket.close();
  }
}

export interface PageProblems {
  /** Console errors, uncaught exceptions and the browser's own error log entries (a blocked or failed load). */
  consoleErrors: string[];
  /** Requests that failed or got a 4xx/5xx answer: `<status or error> <url>`. */
  failedRequests: string[];
  /** Every URL the page requested. */
  requests: string[];
}

export class ChromiumPage {
  readonly problems: PageProblems = { consoleErrors: [], failedRequests: [], requests: [] };
  private readonly urls = new Map<string, string>();
  private loads = 0;
  private readonly loadWaiters: (() => void)[] = [];

  constructor(
    private readonly cdp: Cdp,
    readonly sessionId: string,
  ) {
    cdp.on((message) => {
      if (message.sessionId !== sessionId || !message.params) return;
      const p = message.params;
      switch (message.method) {
        case 'Runtime.consoleAPICalled':
          if (p.type === 'error' || p.type === 'assert') this.problems.consoleErrors.push((p.args as { value?: unknown; description?: string }[]).map((a) => String(a.value ?? a.description)).join(' '));
          break;
        case 'Runtime.exceptionThrown':
          this.problems.consoleErrors.push(String((p.exceptionDetails as { text: string }).text));
          break;
        case 'Log.entryAdded': {
          const entry = p.entry as { level: string; text: string; url?: string };
          if (entry.level === 'error') this.problems.consoleErrors.push(`${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
          break;
        }
        case 'Network.requestWillBeSent': {
          const url = (p.request as { url: string }).url;
          this.urls.set(p.requestId as string, url);
          this.problems.requests.push(url);
          break;
        }
        case 'Network.responseReceived': {
          const response = p.response as { status: number; url: string };
          if (response.status >= 400) this.problems.failedRequests.push(`${response.status} ${response.url}`);
          break;
        }
        case 'Network.loadingFailed':
          this.problems.failedRequests.push(`${String(p.errorText)}${p.blockedReason ? ` (${String(p.blockedReason)})` : ''} ${this.urls.get(p.requestId as string) ?? '?'}`);
          break;
        case 'Page.loadEventFired':
          this.loads += 1;
          for (const waiter of this.loadWaiters.splice(0)) waiter();
          break;
      }
    });
  }

  /** Page loads so far (a refresh counts as another). */
  get loadCount(): number {
    return this.loads;
  }

  /** Resolves at the next load event, or fails after `timeoutMs`. */
  nextLoad(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no page load within ${timeoutMs} ms`)), timeoutMs);
      this.loadWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Navigate and wait for the load event. */
  async goto(url: string, timeoutMs = 30_000): Promise<void> {
    const loaded = this.nextLoad(timeoutMs);
    const result = await this.cdp.send('Page.navigate', { url }, this.sessionId);
    if (result.errorText) throw new Error(`navigating to ${url} failed: ${String(result.errorText)}`);
    await loaded;
  }

  /** The value of a JavaScript expression in the page (returned by value: JSON-like results only). */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, this.sessionId);
    if (result.exceptionDetails) throw new Error(`evaluating ${expression} failed: ${JSON.stringify(result.exceptionDetails)}`);
    return (result.result as { value: T }).value;
  }

  /** A PNG of the page as rendered (for a person to look at). */
  async screenshot(): Promise<Buffer> {
    const result = await this.cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, this.sessionId);
    return Buffer.from(String(result.data), 'base64');
  }
}

export class Chromium {
  private constructor(
    private readonly child: ChildProcess,
    private readonly cdp: Cdp,
    private readonly profile: string,
  ) {}

  /** Starts headless Chromium (`binary`, else ensureChromium()) with a throw-away profile and DevTools on a free port. */
  static async launch(binary?: string, timeoutMs = 60_000): Promise<Chromium> {
    const file = binary ?? (await ensureChromium());
    const profile = mkdtempSync(path.join(os.tmpdir(), 'driftgate-chromium-'));
    const args = [
      '--headless',
      // Root cannot run Chromium's sandbox; the page is our own.
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--no-default-browser-check',
      // Nothing but the page under test: no updates, sync, metrics or other calls out.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-extensions',
      '--disable-sync',
      '--metrics-recording-only',
      '--no-pings',
      `--user-data-dir=${profile}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ];
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium (${file}) did not open DevTools within ${timeoutMs} ms:\n${tail(stderr)}`)), timeoutMs);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`Chromium (${file}) could not start: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Chromium (${file}) exited (${code ?? signal}) before DevTools opened:\n${tail(stderr)}`));
      });
    }).catch((error: Error) => {
      child.kill('SIGKILL');
      rmSync(profile, { recursive: true, force: true });
      throw error;
    });
    child.stderr!.resume();
    return new Chromium(child, await Cdp.open(url), profile);
  }

  /** A new tab with console, log and network events recorded. */
  async newPage(): Promise<ChromiumPage> {
    const { targetId } = (await this.cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new ChromiumPage(this.cdp, sessionId);
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await this.cdp.send(`${domain}.enable`, {}, sessionId);
    return page;
  }

  /** Closes the browser (politely, then SIGKILL after 5 s) and removes its profile. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null || this.child.signalCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    await this.cdp.send('Browser.close').catch(() => undefined);
    this.cdp.close();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}
