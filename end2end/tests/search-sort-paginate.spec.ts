import { test, expect } from './fixtures';
import { createClientsViaApi, gotoApp, shownIds, signUpViaApi, tableRows, type NewClient } from './helpers';

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

test('search, sort and paginate 30 clients', async ({ page, consoleErrors }) => {
  test.slow(); // 30 argon2 hashes in a debug build
  await signUpViaApi(page);
  await createClientsViaApi(page, CLIENTS, 3);

  await gotoApp(page, '/clients', consoleErrors);
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
  await page.getByTestId('prev-page').click();
  await expect(summary).toHaveText('1–25 of 30 clients');
  expect(await shownIds(tableRows(page))).toEqual(firstPage);

  // Sort by Client ID: ascending, then descending on the second click.
  await page.getByTestId('sort-client_id').click();
  await expect(page).toHaveURL(/sort=client_id/);
  await expect(page.locator('th[aria-sort=ascending]')).toContainText('Client ID');
  await expect.poll(() => shownIds(tableRows(page))).toEqual(ALL_IDS.slice(0, 25));
  await page.getByTestId('next-page').click();
  await expect(summary).toHaveText('26–30 of 30 clients');
  await expect.poll(() => shownIds(tableRows(page))).toEqual(ALL_IDS.slice(25));
  // Sorting goes back to page 1.
  await page.getByTestId('sort-client_id').click();
  await expect(page).toHaveURL(/dir=desc/);
  await expect(page).not.toHaveURL(/page=/);
  await expect(page.locator('th[aria-sort=descending]')).toContainText('Client ID');
  await expect.poll(() => shownIds(tableRows(page))).toEqual([...ALL_IDS].reverse().slice(0, 25));

  // Sort by name.
  await page.getByTestId('sort-name').click();
  const byName = [...CLIENTS].sort((a, b) => a.name.localeCompare(b.name)).map((c) => c.client_id);
  await expect.poll(() => shownIds(tableRows(page))).toEqual(byName.slice(0, 25));
  const names = await tableRows(page).locator('.name').allInnerTexts();
  expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));

  // Search by id narrows (live, through ?q=), and keeps the sort.
  const search = page.getByTestId('search');
  await search.fill('dev-1');
  await expect(page).toHaveURL(/q=dev-1/);
  await expect(summary).toHaveText('1–10 of 10 clients');
  await expect(page.getByTestId('pagination')).toHaveCount(0);
  expect((await shownIds(tableRows(page))).sort()).toEqual(ALL_IDS.filter((id) => id.startsWith('dev-1')));

  // Search by name, case-insensitively.
  await search.fill('greenhouse');
  await expect(summary).toHaveText('1–1 of 1 clients');
  expect(await shownIds(tableRows(page))).toEqual(['dev-07']);

  // No match.
  await search.fill('no-such-device');
  await expect(page.getByTestId('no-match')).toBeVisible();
  await expect(page.getByTestId('no-match')).toContainText('no-such-device');
  await expect(page.getByTestId('client-table')).toHaveCount(0);
  await expect(page.getByTestId('empty-state')).toHaveCount(0);

  // Clearing the search shows everything again.
  await search.fill('');
  await expect(summary).toHaveText('1–25 of 30 clients');

  // The URL is the state: loading it directly gives the same page.
  await gotoApp(page, '/clients?q=dev-2&sort=client_id&dir=desc', consoleErrors);
  await expect(search).toHaveValue('dev-2');
  await expect(summary).toHaveText('1–10 of 10 clients');
  expect(await shownIds(tableRows(page))).toEqual(ALL_IDS.filter((id) => id.startsWith('dev-2')).reverse());

  await gotoApp(page, '/clients?page=2', consoleErrors);
  await expect(summary).toHaveText('26–30 of 30 clients');

  expect(consoleErrors).toEqual([]);
});
