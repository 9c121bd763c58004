// Helpers shared by the browser tests (the server-per-test fixture lives in fixtures.ts).
import { test, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { expect, uniqueEmail, waitForHydration } from './fixtures';

export const PASSWORD = 'correct horse battery staple';

export interface Account {
  email: string;
  password: string;
  organization: string;
}

/** The API request context of a page (it shares the page's cookies), or the context itself. */
function requestOf(target: Page | APIRequestContext): APIRequestContext {
  return 'request' in target ? target.request : target;
}

/**
 * Signs up through the server function (no UI), so the session cookie lands in the page's
 * browser context. Cheaper than the form; the UI flow has its own test.
 */
export async function signUpViaApi(
  target: Page | APIRequestContext,
  organization = 'Acme Devices',
): Promise<Account> {
  const request = requestOf(target);
  const account = { email: uniqueEmail('owner'), password: PASSWORD, organization };
  const response = await request.post('/api/account/sign_up', { form: { ...account } });
  expect(response.ok(), `sign-up answered ${response.status()}: ${await response.text()}`).toBeTruthy();
  return account;
}

export interface NewClient {
  client_id: string;
  name: string;
  description?: string;
  /** At least 16 characters; defaults to a fixed test key. */
  key?: string;
}

export const DEFAULT_KEY = 'test-key-0123456789';

/** Creates a client in the current workspace through the server function. */
export async function createClientViaApi(target: Page | APIRequestContext, client: NewClient) {
  const request = requestOf(target);
  const response = await request.post('/api/clients/create', {
    form: {
      client_id: client.client_id,
      key: client.key ?? DEFAULT_KEY,
      name: client.name,
      description: client.description ?? '',
    },
  });
  expect(response.ok(), `create ${client.client_id} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/**
 * Creates many clients, a few requests at a time: each create hashes its key with argon2, which
 * is slow in a debug build, and the server hashes on a blocking pool that can use both cores.
 * Creation order within a batch is not guaranteed: don't rely on it (batches run in order).
 */
export async function createClientsViaApi(target: Page | APIRequestContext, clients: NewClient[], concurrency = 3) {
  for (let i = 0; i < clients.length; i += concurrency) {
    await Promise.all(clients.slice(i, i + concurrency).map((c) => createClientViaApi(target, c)));
  }
}

/** Activates or deactivates a client through the server function (the switch's request). */
export async function setActiveViaApi(target: Page | APIRequestContext, clientId: string, active: boolean) {
  const request = requestOf(target);
  const response = await request.post('/api/clients/set_active', {
    form: { client_id: clientId, active: String(active) },
  });
  expect(response.ok(), `set_active ${clientId} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

export interface Workspace {
  id: string;
  name: string;
  namespace: string;
}

/** Creates a workspace of the signed-in organization through the server function. */
export async function createWorkspaceViaApi(
  target: Page | APIRequestContext,
  name: string,
  namespace: string,
): Promise<Workspace> {
  const request = requestOf(target);
  const response = await request.post('/api/workspaces/create', { form: { name, namespace } });
  expect(response.ok(), `create workspace ${name} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Makes a workspace the session's current one through the server function. */
export async function switchWorkspaceViaApi(target: Page | APIRequestContext, id: string) {
  const request = requestOf(target);
  const response = await request.post('/api/workspaces/switch', { form: { id } });
  expect(response.ok(), `switch to workspace ${id} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

/** Rows of the list view. */
export function tableRows(page: Page): Locator {
  return page.locator('[data-testid=client-table] tbody tr[data-client-id]');
}

/** Cards of the card view. */
export function cards(page: Page): Locator {
  return page.locator('[data-testid=client-cards] article[data-client-id]');
}

export function row(page: Page, clientId: string): Locator {
  return page.locator(`[data-testid=client-table] tr[data-client-id="${clientId}"]`);
}

export function card(page: Page, clientId: string): Locator {
  return page.locator(`[data-testid=client-cards] article[data-client-id="${clientId}"]`);
}

/** The Client IDs shown by the list or card view, in page order. */
export async function shownIds(items: Locator): Promise<string[]> {
  return items.evaluateAll((elements) => elements.map((e) => e.getAttribute('data-client-id') ?? ''));
}

/** The newest toast with this text (toasts stay about 4 s, so an older one may still show). */
export function toast(page: Page, text: string | RegExp): Locator {
  return page.getByTestId('toast').filter({ hasText: text }).last();
}

/** Console errors other than the browser's own "Failed to load resource" line for an HTTP error. */
export function unexpectedErrors(consoleErrors: string[]): string[] {
  return consoleErrors.filter((e) => !/Failed to load resource: the server responded with a status of [45]\d\d/.test(e));
}

/**
 * Clicks the list or card view button and waits until the server saved the choice (it is
 * remembered per account: a page load right after the click must find it saved).
 */
export async function switchView(page: Page, view: 'list' | 'cards') {
  const saved = page.waitForResponse((r) => r.url().includes('/api/account/set_view') && r.ok());
  await page.getByTestId(`view-${view}`).click();
  await saved;
}

/** Makes the browser's clipboard readable and writable for the page's origin. */
export async function allowClipboard(page: Page, origin: string) {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
}

export async function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Opens `+ New` and returns the modal. */
export async function openNewClientModal(page: Page): Promise<Locator> {
  await page.getByTestId('new-client').click();
  const modal = page.getByTestId('new-client-modal');
  await expect(modal).toBeVisible();
  return modal;
}

/** Ticks "I have saved this key" and closes the reveal step. */
export async function finishReveal(page: Page) {
  const reveal = page.getByTestId('reveal');
  await reveal.getByTestId('saved-checkbox').check();
  await reveal.getByTestId('reveal-done').click();
  await expect(reveal).toBeHidden();
}

// Full page loads go through `gotoApp`/`reloadApp`: they wait for hydration and then fail the test
// if the app reported a hydration error. A server render that differs from the browser's (as when
// a page's resource was created in a discarded server-render run, see server-render.spec.ts) leaves
// a page that looks right but is dead; this catches it on every page load of the suite.
const probed = new WeakSet<Page>();

/** Marks `window.__kgHydrationFailed` when the app reports a hydration error or panics. */
async function installHydrationProbe(page: Page) {
  if (probed.has(page)) return;
  probed.add(page);
  await page.addInitScript(() => {
    const w = window as unknown as { __kgHydrationFailed?: boolean };
    const original = console.error.bind(console);
    console.error = (...args: unknown[]) => {
      const text = args.map(String).join(' ');
      if (/hydration error|Unrecoverable hydration/i.test(text)) w.__kgHydrationFailed = true;
      original(...args);
    };
  });
}

async function loadApp(page: Page, load: () => Promise<unknown>) {
  await installHydrationProbe(page);
  await load();
  await waitForHydration(page);
  const failed = await page.evaluate(
    () => (window as unknown as { __kgHydrationFailed?: boolean }).__kgHydrationFailed === true,
  );
  if (failed) throw new Error(`hydration of ${page.url()} failed: the server render differs from the browser's`);
}

/** `gotoHydrated` that fails on a hydration error. `consoleErrors` is checked by the caller. */
export async function gotoApp(page: Page, url: string, _consoleErrors: string[]) {
  await loadApp(page, () => page.goto(url));
}

/** `page.reload()` plus hydration, failing on a hydration error. */
export async function reloadApp(page: Page, _consoleErrors: string[]) {
  await loadApp(page, () => page.reload());
}
