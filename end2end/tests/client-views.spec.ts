// The list and card views of the Clients page, the choice between them, and the read-only page
// the server renders without JavaScript.
import { test, expect, screenshot } from './fixtures';
import {
  card,
  cards,
  createClientsViaApi,
  gotoApp,
  reloadApp,
  row,
  shownIds,
  signUpViaApi,
  switchView,
  tableRows,
  type NewClient,
} from './helpers';
import type { Page } from '@playwright/test';

const FLEET: NewClient[] = [
  { client_id: 'boiler-03', name: 'Boiler room sensor 3', description: 'Basement, north wall' },
  { client_id: 'gate-east', name: 'East gate controller', description: 'Opens the loading-bay gate' },
  { client_id: 'greenhouse-t1', name: 'Greenhouse thermometer', description: 'Row 4, hanging' },
  { client_id: 'pump.station-2', name: 'Pump station 2', description: '' },
  { client_id: 'weather_roof', name: 'Roof weather station', description: 'Wind, rain and temperature' },
];

/** Signs up as Acme Devices, creates the fleet and opens the Clients page (the list view). */
async function fleetPage(page: Page, consoleErrors: string[]) {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, FLEET);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(tableRows(page)).toHaveCount(FLEET.length);
}

test('the list view is the default and shows every client', async ({ page, consoleErrors }) => {
  await fleetPage(page, consoleErrors);
  await expect(page.getByTestId('view-list')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('view-cards')).toHaveAttribute('aria-pressed', 'false');
  await expect(tableRows(page)).toHaveCount(FLEET.length);
  expect((await shownIds(tableRows(page))).sort()).toEqual(FLEET.map((c) => c.client_id).sort());
  await expect(row(page, 'gate-east').locator('.name')).toHaveText('East gate controller');
  await expect(page.getByTestId('summary')).toHaveText('1–5 of 5 clients');
  await screenshot(page, 'clients-list');

  expect(consoleErrors).toEqual([]);
});

test('the card view shows the same clients in the same order, with their descriptions', async ({
  page,
  consoleErrors,
}) => {
  await fleetPage(page, consoleErrors);
  const listOrder = await shownIds(tableRows(page));
  await switchView(page, 'cards');
  await expect(page.getByTestId('view-cards')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('view-list')).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('client-table')).toHaveCount(0);
  await expect(cards(page)).toHaveCount(FLEET.length);
  expect(await shownIds(cards(page))).toEqual(listOrder);
  await expect(card(page, 'gate-east').locator('.name')).toHaveText('East gate controller');
  await expect(card(page, 'gate-east').locator('.description')).toHaveText('Opens the loading-bay gate');
  await expect(card(page, 'pump.station-2').locator('.description')).toHaveText('No description');
  await screenshot(page, 'clients-cards');

  expect(consoleErrors).toEqual([]);
});

test('the card view is remembered by the server: it renders cards straight away, and so does a reload', async ({
  page,
  consoleErrors,
}) => {
  await fleetPage(page, consoleErrors);
  await switchView(page, 'cards');
  const html = await (await page.request.get('/clients')).text();
  expect(html).toContain('data-testid="client-cards"');
  expect(html).not.toContain('data-testid="client-table"');
  await reloadApp(page, consoleErrors);
  await expect(page.getByTestId('view-cards')).toHaveAttribute('aria-pressed', 'true');
  await expect(cards(page)).toHaveCount(FLEET.length);
  await expect(page.getByTestId('client-table')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});

test('going back to the list view is remembered too', async ({ page, consoleErrors }) => {
  await fleetPage(page, consoleErrors);
  await switchView(page, 'cards');
  await expect(cards(page)).toHaveCount(FLEET.length);
  await switchView(page, 'list');
  await expect(tableRows(page)).toHaveCount(FLEET.length);
  await reloadApp(page, consoleErrors);
  await expect(page.getByTestId('view-list')).toHaveAttribute('aria-pressed', 'true');
  await expect(tableRows(page)).toHaveCount(FLEET.length);
  await expect(page.getByTestId('client-cards')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});

test('without JavaScript the server renders the clients read-only', async ({ browser, keygate }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL: keygate.url });
  try {
    await signUpViaApi(context.request, 'Initech');
    await createClientsViaApi(context.request, FLEET.slice(0, 3));
    const page = await context.newPage();
    await page.goto('/clients');

    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByTestId('namespace')).toHaveText('initech');
    await expect(page.getByTestId('summary')).toHaveText('1–3 of 3 clients');
    await expect(tableRows(page)).toHaveCount(3);
    expect((await shownIds(tableRows(page))).sort()).toEqual(FLEET.slice(0, 3).map((c) => c.client_id).sort());
    await expect(row(page, 'boiler-03').locator('.name')).toHaveText('Boiler room sensor 3');
    await expect(row(page, 'boiler-03').getByTestId('active-switch')).toBeChecked();
    // Nothing pretends to work that cannot: the switch is disabled until the app is interactive.
    await expect(row(page, 'boiler-03').getByTestId('active-switch')).toBeDisabled();

    // Search is a plain GET form and sorting is a link: both work without WASM.
    await page.getByTestId('search').fill('gate');
    await page.getByTestId('search').press('Enter');
    await expect(page).toHaveURL(/\/clients\?q=gate$/);
    await expect(tableRows(page)).toHaveCount(1);
    await expect(row(page, 'gate-east')).toBeVisible();

    await page.goto('/clients');
    await page.getByTestId('sort-client_id').click();
    await expect(page).toHaveURL(/sort=client_id/);
    expect(await shownIds(tableRows(page))).toEqual(['boiler-03', 'gate-east', 'greenhouse-t1']);
  } finally {
    await context.close();
  }
});
