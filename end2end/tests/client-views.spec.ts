import { test, expect, screenshot } from './fixtures';
import { cards, createClientsViaApi, gotoApp, reloadApp, row, shownIds, signUpViaApi, tableRows, type NewClient } from './helpers';

const FLEET: NewClient[] = [
  { client_id: 'boiler-03', name: 'Boiler room sensor 3', description: 'Basement, north wall' },
  { client_id: 'gate-east', name: 'East gate controller', description: 'Opens the loading-bay gate' },
  { client_id: 'greenhouse-t1', name: 'Greenhouse thermometer', description: 'Row 4, hanging' },
  { client_id: 'pump.station-2', name: 'Pump station 2', description: '' },
  { client_id: 'weather_roof', name: 'Roof weather station', description: 'Wind, rain and temperature' },
];

test('list and card views show the same clients and the choice survives a reload', async ({ page, consoleErrors }) => {
  await signUpViaApi(page, 'Acme Devices');
  await createClientsViaApi(page, FLEET);
  const expected = FLEET.map((c) => c.client_id).sort();

  await gotoApp(page, '/clients', consoleErrors);
  const listButton = page.getByTestId('view-list');
  const cardsButton = page.getByTestId('view-cards');
  await expect(listButton).toHaveAttribute('aria-pressed', 'true');
  await expect(cardsButton).toHaveAttribute('aria-pressed', 'false');
  await expect(tableRows(page)).toHaveCount(FLEET.length);
  expect((await shownIds(tableRows(page))).sort()).toEqual(expected);
  await expect(row(page, 'gate-east').locator('.name')).toHaveText('East gate controller');
  await expect(page.getByTestId('summary')).toHaveText('1–5 of 5 clients');
  await screenshot(page, 'clients-list');

  // Cards: same clients, same order.
  const listOrder = await shownIds(tableRows(page));
  const saved = page.waitForResponse((r) => r.url().includes('/api/account/set_view') && r.ok());
  await cardsButton.click();
  await saved;
  await expect(cardsButton).toHaveAttribute('aria-pressed', 'true');
  await expect(listButton).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('client-table')).toHaveCount(0);
  await expect(cards(page)).toHaveCount(FLEET.length);
  expect(await shownIds(cards(page))).toEqual(listOrder);
  const gate = page.locator('[data-testid=client-cards] article[data-client-id="gate-east"]');
  await expect(gate.locator('.name')).toHaveText('East gate controller');
  await expect(gate.locator('.description')).toHaveText('Opens the loading-bay gate');
  await expect(page.locator('[data-testid=client-cards] article[data-client-id="pump.station-2"] .description')).toHaveText(
    'No description',
  );
  await screenshot(page, 'clients-cards');

  // Remembered by the server: it renders cards straight away, and so does a reload.
  const html = await (await page.request.get('/clients')).text();
  expect(html).toContain('data-testid="client-cards"');
  expect(html).not.toContain('data-testid="client-table"');
  await reloadApp(page, consoleErrors);
  await expect(page.getByTestId('view-cards')).toHaveAttribute('aria-pressed', 'true');
  await expect(cards(page)).toHaveCount(FLEET.length);
  await expect(page.getByTestId('client-table')).toHaveCount(0);

  // And back to the list, also remembered.
  const savedList = page.waitForResponse((r) => r.url().includes('/api/account/set_view') && r.ok());
  await page.getByTestId('view-list').click();
  await savedList;
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
