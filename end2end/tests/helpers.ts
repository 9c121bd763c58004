// Helpers shared by the browser tests (the server-per-test fixture lives in fixtures.ts).
import { test, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { expect, uniqueEmail, waitForHydration } from './fixtures';

export const PASSWORD = 'correct horse battery staple';

export interface Account {
  email: string;
  password: string;
  organization: string;
}

/**
 * Signs up through the server function (no UI), so the session cookie lands in the page's
 * browser context. Cheaper than the form; the UI flow has its own test.
 */
export async function signUpViaApi(
  target: Page | APIRequestContext,
  organization = 'Acme Devices',
): Promise<Account> {
  const request = 'request' in target ? target.request : target;
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
  const request = 'request' in target ? target.request : target;
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

// ---------------------------------------------------------------------------------------------
// KNOWN BUG (see server-render.spec.ts): a server-rendered /clients or /settings sometimes ships a
// serialized `{"Err":"Internal"}` for the page's resource (the server logs "AppState missing from
// the server function context"), the browser then renders something else than the server did and
// hydration panics ("Unrecoverable hydration error"): the page stays dead. That bug has its own
// test; so that every other test checks its own behaviour instead of failing at random on this
// one, full page loads go through `gotoApp`/`reloadApp`, which load the page again (at most
// twice) when hydration failed, drop that attempt's hydration messages from `consoleErrors` and
// note the retry as a test annotation. Remove this once the bug is fixed.
// ---------------------------------------------------------------------------------------------

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

const HYDRATION_NOISE = /hydration error|Unrecoverable hydration|^pageerror: unreachable/i;

async function loadApp(page: Page, consoleErrors: string[], load: () => Promise<unknown>) {
  await installHydrationProbe(page);
  for (let attempt = 1; ; attempt++) {
    const before = consoleErrors.length;
    await load();
    await waitForHydration(page);
    const failed = await page.evaluate(
      () => (window as unknown as { __kgHydrationFailed?: boolean }).__kgHydrationFailed === true,
    );
    if (!failed) return;
    if (attempt >= 3) throw new Error(`hydration of ${page.url()} failed ${attempt} times in a row (known SSR bug)`);
    test.info().annotations.push({
      type: 'known-bug',
      description: `hydration of ${page.url()} failed (server-render.spec.ts); loaded it again`,
    });
    const added = consoleErrors.splice(before);
    consoleErrors.push(...added.filter((e) => !HYDRATION_NOISE.test(e)));
    load = () => page.reload();
  }
}

/** `gotoHydrated`, loading the page again if it hit the known hydration bug. */
export async function gotoApp(page: Page, url: string, consoleErrors: string[]) {
  await loadApp(page, consoleErrors, () => page.goto(url));
}

/** `page.reload()` plus hydration, loading the page again if it hit the known hydration bug. */
export async function reloadApp(page: Page, consoleErrors: string[]) {
  await loadApp(page, consoleErrors, () => page.reload());
}
