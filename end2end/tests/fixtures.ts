// Shared test set-up: every test gets its own real `keygate` process (fresh SQLite file in a temp
// dir, free port, `--open-signup`) and `baseURL` points at it, so `page.goto('/signup')` just works.
//
// Environment:
//   KEYGATE_BIN        the binary (default: the debug build's output, $CARGO_TARGET_DIR/debug/keygate)
//   KEYGATE_SITE_ROOT  the built site with pkg/ (default: $LEPTOS_SITE_ROOT or <workspace>/target/site)
//   KEYGATE_E2E_KEEP=1 keep each test's temp dir (database, keygate.log) instead of deleting it
//   KEYGATE_LOG        log filter for the server (default: info)
import { test as base, expect, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export { expect };

export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..');
export const SCREENSHOT_DIR = path.resolve(__dirname, '..', 'screenshots');

/** Cargo's target directory: $CARGO_TARGET_DIR (relative to the workspace) or <workspace>/target. */
export function targetDir(): string {
  const dir = process.env.CARGO_TARGET_DIR;
  return dir ? path.resolve(WORKSPACE_ROOT, dir) : path.join(WORKSPACE_ROOT, 'target');
}

export function keygateBin(): string {
  return process.env.KEYGATE_BIN
    ? path.resolve(WORKSPACE_ROOT, process.env.KEYGATE_BIN)
    : path.join(targetDir(), 'debug', 'keygate');
}

export function siteRoot(): string {
  const dir = process.env.KEYGATE_SITE_ROOT || process.env.LEPTOS_SITE_ROOT;
  return dir ? path.resolve(WORKSPACE_ROOT, dir) : path.join(WORKSPACE_ROOT, 'target', 'site');
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface KeygateOptions {
  /** Pass `--open-signup` (default true). */
  openSignup?: boolean;
  /** Extra command-line arguments. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export interface Keygate {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  /** A second free port, offered to the embedded broker as KEYGATE_MQTT_LISTEN. */
  mqttPort: number;
  /** Temp dir holding the database and the log. */
  dir: string;
  databaseUrl: string;
  logPath: string;
  /** The server's output so far. */
  log(): string;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), delete the temp dir unless KEYGATE_E2E_KEEP. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
}

function cleanEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // The test runner's own settings must not reach the server under test.
    if (key === 'DATABASE_URL' || key.startsWith('LEPTOS_')) continue;
    if (key.startsWith('KEYGATE_') && key !== 'KEYGATE_LOG') continue;
    env[key] = value;
  }
  env.KEYGATE_LOG = process.env.KEYGATE_LOG || 'info';
  env.NO_COLOR = '1';
  return { ...env, ...extra };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function startOnce(bin: string, site: string, options: KeygateOptions): Promise<Keygate> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygate-e2e-'));
  const port = await freePort();
  let mqttPort = await freePort();
  while (mqttPort === port) mqttPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const databaseUrl = `sqlite://${path.join(dir, 'keygate.db')}`;
  const logPath = path.join(dir, 'keygate.log');
  const logFd = fs.openSync(logPath, 'a');
  const args = [
    '--listen',
    `127.0.0.1:${port}`,
    '--database-url',
    databaseUrl,
    '--site-root',
    site,
    ...(options.openSignup === false ? [] : ['--open-signup']),
    ...(options.args ?? []),
  ];
  const child = spawn(bin, args, {
    cwd: dir,
    env: cleanEnv({ KEYGATE_MQTT_LISTEN: `127.0.0.1:${mqttPort}`, ...options.env }),
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const log = () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '');

  const stop = async ({ keepDir = false } = {}) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited(child).then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
    if (!keepDir && !process.env.KEYGATE_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };

  // Ready when it answers HTTP at all (any status): migrations ran and the listener is bound.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const output = log();
      await stop();
      const error = new Error(
        `keygate exited (${child.exitCode ?? child.signalCode}) before answering on ${url}:\n${tail(output)}`,
      );
      (error as Error & { addressInUse?: boolean }).addressInUse = /address (already )?in use/i.test(output);
      throw error;
    }
    try {
      await fetch(`${url}/`, { redirect: 'manual', signal: AbortSignal.timeout(2_000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        const output = log();
        await stop();
        throw new Error(`keygate did not answer on ${url} within 30 s:\n${tail(output)}`);
      }
      await sleep(100);
    }
  }
  return { url, port, mqttPort, dir, databaseUrl, logPath, log, stop };
}

/** Starts a fresh `keygate` (own temp dir, SQLite file and port) and waits until it answers. */
export async function startKeygate(options: KeygateOptions = {}): Promise<Keygate> {
  const bin = keygateBin();
  const site = siteRoot();
  if (!fs.existsSync(bin)) {
    throw new Error(`keygate binary not found at ${bin}: run \`cargo run --release -p build-site\` or set KEYGATE_BIN`);
  }
  if (!fs.existsSync(path.join(site, 'pkg'))) {
    throw new Error(`no built site at ${site} (pkg/ missing): run \`cargo run --release -p build-site\` or set KEYGATE_SITE_ROOT`);
  }
  // Another process may grab the free port between our probe and keygate's bind: try again then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(bin, site, options);
    } catch (error) {
      if (attempt < 3 && (error as { addressInUse?: boolean }).addressInUse) continue;
      throw error;
    }
  }
}

/** Navigates and waits until the WASM has hydrated the page (clicks before that are lost). */
export async function gotoHydrated(page: Page, url: string) {
  const response = await page.goto(url);
  await waitForHydration(page);
  return response;
}

/** Waits for the marker the app sets on <body> once hydrated (again after any full page load). */
export async function waitForHydration(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30_000 });
}

/** Saves a full-page screenshot to end2end/screenshots/NAME.png (gitignored) and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** An email address no other test uses. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

function failed(testInfo: TestInfo): boolean {
  return testInfo.status !== testInfo.expectedStatus;
}

type Fixtures = {
  /** How this test's keygate is started (`test.use({ keygateOptions: ... })`). */
  keygateOptions: KeygateOptions;
  /** This test's own keygate server. */
  keygate: Keygate;
  /** Uncaught page errors and console.error messages seen so far in this test. */
  consoleErrors: string[];
  /**
   * Opens a page in a browser context of its own (its own cookies: another person, or the same
   * person on another device) pointed at this test's keygate. Its errors go to `consoleErrors`
   * too, tagged with `name`; the contexts are closed when the test ends.
   */
  newContextPage: (name: string) => Promise<Page>;
};

/** Records a page's uncaught errors and console.error messages, each prefixed with `tag`. */
function collectErrors(page: Page, errors: string[], tag = '') {
  page.on('pageerror', (error) => errors.push(`${tag}pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${tag}console.error: ${message.text()}`);
  });
}

export const test = base.extend<Fixtures>({
  keygateOptions: [{}, { option: true }],

  keygate: async ({ keygateOptions }, use, testInfo) => {
    const keygate = await startKeygate(keygateOptions);
    await use(keygate);
    await keygate.stop({ keepDir: true });
    if (failed(testInfo)) {
      await testInfo.attach('keygate.log', { body: keygate.log(), contentType: 'text/plain' });
    }
    if (!process.env.KEYGATE_E2E_KEEP) fs.rmSync(keygate.dir, { recursive: true, force: true });
  },

  baseURL: async ({ keygate }, use) => {
    await use(keygate.url);
  },

  consoleErrors: async ({}, use) => {
    await use([]);
  },

  page: async ({ page, consoleErrors }, use, testInfo) => {
    collectErrors(page, consoleErrors);
    await use(page);
    if (failed(testInfo)) {
      if (consoleErrors.length > 0) {
        await testInfo.attach('console-errors.txt', { body: consoleErrors.join('\n'), contentType: 'text/plain' });
      }
      const name = `${path.basename(testInfo.file, '.spec.ts')}-${testInfo.title}-failed`;
      await screenshot(page, name).catch(() => undefined);
    }
  },

  newContextPage: async ({ browser, keygate, consoleErrors }, use, testInfo) => {
    const opened: { name: string; context: BrowserContext; page: Page }[] = [];
    await use(async (name) => {
      const context = await browser.newContext({ viewport: testInfo.project.use.viewport, baseURL: keygate.url });
      const page = await context.newPage();
      collectErrors(page, consoleErrors, `[${name}] `);
      opened.push({ name, context, page });
      return page;
    });
    for (const { name, context, page } of opened) {
      if (failed(testInfo)) {
        const file = `${path.basename(testInfo.file, '.spec.ts')}-${testInfo.title}-${name}-failed`;
        await screenshot(page, file).catch(() => undefined);
      }
      await context.close();
    }
  },
});
