// Searching, sorting and paging through 30 clients on the Clients page; the URL holds that state.
import { test as base, expect, startKeygate, type Keygate } from './fixtures';
import { createClientsViaApi, gotoApp, shownIds, signUpViaApi, tableRows, type NewClient } from './helpers';
import type { APIRequestContext, Page } from '@playwright/test';

const pad = (n: number) => String(n).padStart(2, '0');

// 30 clients: ids dev-01..dev-30, names in reverse alphabetical order of the ids, so sorting by
// Client ID and by name give different orders. dev-07 has a distinctive name to search for.
const CLIENTS: NewClient[] = Array.from({ length: 30 }, (_, i) => {
  const n = i + 1;
  return {
    client_id: `dev-${pad(n)}`,
    name: n === 7 ? 'Greenhouse humidity probe' : `Unit ${String.fromCharCode(0x5a - (n % 26))}${pad(31 - n)}`,
    description: `Device number ${n}`,
  };
});
const ALL_IDS = CLIENTS.map((c) => c.client_id);
const BY_NAME = [...CLIENTS].sort((a, b) => a.name.localeCompare(b.name)).map((c) => c.client_id);

type StorageState = Awaited<ReturnType<APIRequestContext['storageState']>>;

// Unlike the other specs, the tests of this file share a keygate: one per worker, seeded once with
// the 30 clients (30 argon2 hashes, the bulk of a test's time if each test made them), and each
// test's browser starts signed in to it. This is sound only because these tests change nothing
// on the server (search, sort and page live in the URL): a test that does must not go here.
const test = base.extend<{ seededLog: void }, { seeded: { keygate: Keygate; storageState: StorageState } }>({
  seeded: [
    async ({ playwright }, use) => {
      const keygate = await startKeygate();
      const request = await playwright.request.newContext({ baseURL: keygate.url });
      try {
        await signUpViaApi(request);
        await createClientsViaApi(request, CLIENTS, 3);
        await use({ keygate, storageState: await request.storageState() });
      } finally {
        await request.dispose();
        await keygate.stop();
      }
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  baseURL: async ({ seeded }, use) => {
    await use(seeded.keygate.url);
  },
  storageState: async ({ seeded }, use) => {
    await use(seeded.storageState);
  },
  // A failed test gets the shared server's log, as fixtures.ts's own keygate does.
  seededLog: [
    async ({ seeded }, use, testInfo) => {
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('keygate.log', { body: seeded.keygate.log(), contentType: 'text/plain' });
      }
    },
    { auto: true },
  ],
});

/** Opens `path` signed in to the shared server with the 30 clients. */
async function openClientsPage(page: Page, consoleErrors: string[], path = '/clients') {
  await gotoApp(page, path, consoleErrors);
}

test('the first page shows 25 of 30 clients and the second page the other 5', async ({ page, consoleErrors }) => {
  await openClientsPage(page, consoleErrors);
  const summary = page.getByTestId('summary');
  await expect(summary).toHaveText('1–25 of 30 clients');
  await expect(tableRows(page)).toHaveCount(25);
  await expect(page.getByTestId('pagination')).toBeVisible();
  await expect(page.getByTestId('prev-page')).toHaveCount(0);

  // Page 2 holds the other 5; together the two pages list every client once.
  const firstPage = await shownIds(tableRows(page));
  await page.getByTestId('next-page').click();
  await expect(page).toHaveURL(/[?&]page=2\b/);
  await expect(summary).toHaveText('26–30 of 30 clients');
  await expect(tableRows(page)).toHaveCount(5);
  await expect(page.getByTestId('next-page')).toHaveCount(0);
  const secondPage = await shownIds(tableRows(page));
  expect([...firstPage, ...secondPage].sort()).toEqual(ALL_IDS);

  // Previous goes back to the same first page.
  await page.getByTestId('prev-page').click();
  await expect(summary).toHaveText('1–25 of 30 clients');
  expect(await shownIds(tableRows(page))).toEqual(firstPage);

  expect(consoleErrors).toEqual([]);
});

test('sorting by Client ID: ascending, descending on the second click, and back to page 1', async ({
  page,
  consoleErrors,
}) => {
  await openClientsPage(page, consoleErrors);
  const summary = page.getByTestId('summary');

  await page.getByTestId('sort-client_id').click();
  await expect(page).toHaveURL(/sort=client_id/);
  await expect(page.locator('th[aria-sort=ascending]')).toContainText('Client ID');
  await expect.poll(() => shownIds(tableRows(page))).toEqual(ALL_IDS.slice(0, 25));
  await page.getByTestId('next-page').click();
  await expect(summary).toHaveText('26–30 of 30 clients');
  await expect.poll(() => shownIds(tableRows(page))).toEqual(ALL_IDS.slice(25));

  // The second click, from page 2: descending, and back on page 1.
  await page.getByTestId('sort-client_id').click();
  await expect(page).toHaveURL(/dir=desc/);
  await expect(page).not.toHaveURL(/page=/);
  await expect(page.locator('th[aria-sort=descending]')).toContainText('Client ID');
  await expect.poll(() => shownIds(tableRows(page))).toEqual([...ALL_IDS].reverse().slice(0, 25));

  expect(consoleErrors).toEqual([]);
});

test('sorting by name orders the rows by name', async ({ page, consoleErrors }) => {
  await openClientsPage(page, consoleErrors);
  await page.getByTestId('sort-name').click();
  await expect.poll(() => shownIds(tableRows(page))).toEqual(BY_NAME.slice(0, 25));
  const names = await tableRows(page).locator('.name').allInnerTexts();
  expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));

  expect(consoleErrors).toEqual([]);
});

test('searching by Client ID narrows the list as you type, through ?q=, and keeps the sort', async ({
  page,
  consoleErrors,
}) => {
  await openClientsPage(page, consoleErrors);
  await page.getByTestId('sort-name').click();
  await expect.poll(() => shownIds(tableRows(page))).toEqual(BY_NAME.slice(0, 25));

  await page.getByTestId('search').fill('dev-1');
  await expect(page).toHaveURL(/q=dev-1/);
  await expect(page).toHaveURL(/sort=name/);
  await expect(page.getByTestId('summary')).toHaveText('1–10 of 10 clients');
  await expect(page.getByTestId('pagination')).toHaveCount(0);
  expect((await shownIds(tableRows(page))).sort()).toEqual(ALL_IDS.filter((id) => id.startsWith('dev-1')));
  expect(await shownIds(tableRows(page))).toEqual(BY_NAME.filter((id) => id.startsWith('dev-1')));

  expect(consoleErrors).toEqual([]);
});

test('searching by name ignores case', async ({ page, consoleErrors }) => {
  await openClientsPage(page, consoleErrors);
  await page.getByTestId('search').fill('greenhouse');
  await expect(page.getByTestId('summary')).toHaveText('1–1 of 1 clients');
  expect(await shownIds(tableRows(page))).toEqual(['dev-07']);

  expect(consoleErrors).toEqual([]);
});

test('a search without a match says so, and clearing it shows every client again', async ({
  page,
  consoleErrors,
}) => {
  await openClientsPage(page, consoleErrors);
  const search = page.getByTestId('search');
  await search.fill('no-such-device');
  await expect(page.getByTestId('no-match')).toBeVisible();
  await expect(page.getByTestId('no-match')).toContainText('no-such-device');
  await expect(page.getByTestId('client-table')).toHaveCount(0);
  await expect(page.getByTestId('empty-state')).toHaveCount(0);

  await search.fill('');
  await expect(page.getByTestId('summary')).toHaveText('1–25 of 30 clients');

  expect(consoleErrors).toEqual([]);
});

test('the URL is the state: loading a search, sort or page URL directly gives that page', async ({
  page,
  consoleErrors,
}) => {
  await openClientsPage(page, consoleErrors, '/clients?q=dev-2&sort=client_id&dir=desc');
  const summary = page.getByTestId('summary');
  await expect(page.getByTestId('search')).toHaveValue('dev-2');
  await expect(summary).toHaveText('1–10 of 10 clients');
  expect(await shownIds(tableRows(page))).toEqual(ALL_IDS.filter((id) => id.startsWith('dev-2')).reverse());

  await gotoApp(page, '/clients?page=2', consoleErrors);
  await expect(summary).toHaveText('26–30 of 30 clients');

  expect(consoleErrors).toEqual([]);
});
