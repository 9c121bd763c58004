// The Devices page: add one device or many, edit its tags, delete it, search, sort and page through
// them in a list or as cards, and every validation message shown at its field as you type.
import { test, expect } from './fixtures';
import { gotoApp, signUpViaApi, switchView, toast } from './helpers';
import type { APIRequestContext, Locator, Page } from '@playwright/test';

interface NewDevice {
  device_id: string;
  name?: string;
  tags?: string;
}

/** Adds a device to the current workspace through the server function. */
async function createDeviceViaApi(request: APIRequestContext, device: NewDevice) {
  const response = await request.post('/api/devices/create', {
    form: { device_id: device.device_id, name: device.name ?? '', tags: device.tags ?? '' },
  });
  expect(response.ok(), `create ${device.device_id} answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

/** Adds many devices (no name, no tags) in one request, as the bulk paste does. */
async function createDevicesViaApi(request: APIRequestContext, ids: string[]) {
  const response = await request.post('/api/devices/create_many', { form: { ids: ids.join('\n') } });
  expect(response.ok(), `create_many answered ${response.status()}: ${await response.text()}`).toBeTruthy();
}

/** Signs up, adds `devices` and opens the Devices page. */
async function devicesPage(page: Page, consoleErrors: string[], devices: NewDevice[] = [], path = '/devices') {
  await signUpViaApi(page);
  for (const device of devices) await createDeviceViaApi(page.request, device);
  await gotoApp(page, path, consoleErrors);
}

function rows(page: Page): Locator {
  return page.locator('[data-testid=device-table] tbody tr[data-device-id]');
}

function deviceRow(page: Page, deviceId: string): Locator {
  return page.locator(`[data-testid=device-table] tr[data-device-id="${deviceId}"]`);
}

/** The device ids the list shows, in page order. */
async function shownDevices(page: Page): Promise<string[]> {
  return rows(page).evaluateAll((elements) => elements.map((e) => e.getAttribute('data-device-id') ?? ''));
}

/** The tag chips inside `scope`, as text. */
async function chips(scope: Locator): Promise<string[]> {
  return scope.getByTestId('tag').allTextContents();
}

async function openNew(page: Page): Promise<Locator> {
  await page.getByTestId('new-device').click();
  const modal = page.getByTestId('new-device-modal');
  await expect(modal).toBeVisible();
  return modal;
}

async function openEdit(page: Page, deviceId: string): Promise<Locator> {
  await deviceRow(page, deviceId).getByTestId('edit').click();
  const modal = page.getByTestId('edit-device-modal');
  await expect(modal).toBeVisible();
  return modal;
}

const pad = (n: number) => String(n).padStart(2, '0');

test('an empty workspace says how devices get there and offers to add one', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors);
  await expect(page).toHaveTitle('Devices · Keygate');
  const empty = page.getByTestId('empty-state');
  await expect(empty).toContainText(
    'No devices yet — they appear when a device connects with form 3, or add them here',
  );
  await empty.getByRole('button', { name: '+ New device' }).click();
  await expect(page.getByTestId('new-device-modal')).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('the header links to the Devices page', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await gotoApp(page, '/clients', consoleErrors);
  await page.getByRole('link', { name: 'Devices', exact: true }).click();
  await expect(page).toHaveURL(/\/devices$/);
  await expect(page.getByRole('heading', { name: 'Devices', exact: true })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('+ New adds a device with its name and tags as chips', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors);
  const modal = await openNew(page);
  await modal.getByLabel('Device ID').fill('sensor-01');
  await modal.getByLabel('Name', { exact: true }).fill('Roof sensor');
  await modal.getByLabel('Tags').fill('zone=roof, env=prod');
  // The preview shows what will be saved: sorted, each once.
  expect(await chips(modal.getByTestId('tag-preview'))).toEqual(['env=prod', 'zone=roof']);
  await modal.getByTestId('create-device').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'Device sensor-01 added')).toBeVisible();
  const row = deviceRow(page, 'sensor-01');
  await expect(row.locator('.name')).toHaveText('Roof sensor');
  expect(await chips(row)).toEqual(['env=prod', 'zone=roof']);
  await expect(row.getByTestId('last-seen')).toHaveText('never');
  await expect(row.getByTestId('last-client')).toHaveText('—');
  expect(consoleErrors).toEqual([]);
});

test('a bad device id is shown at its field as you type and nothing is sent', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors);
  const modal = await openNew(page);
  const error = modal.getByTestId('error-device_id');
  await expect(error).toBeHidden();
  await modal.getByLabel('Device ID').fill('room/1');
  await expect(error).toHaveText(
    "'/' is not allowed in a device id or tag: use letters, digits, '-', '_', '.', ':' and '@'.",
  );
  await modal.getByLabel('Device ID').fill('..');
  await expect(error).toHaveText("'.' and '..' cannot be device ids.");
  await modal.getByLabel('Device ID').fill('');
  let sent = false;
  page.on('request', (r) => {
    if (r.url().includes('/api/devices/create')) sent = true;
  });
  await modal.getByTestId('create-device').click();
  await expect(error).toHaveText('Enter a device id.');
  await expect(modal).toBeVisible();
  expect(sent).toBe(false);
  expect(consoleErrors).toEqual([]);
});

test('a bad tag is shown at the tags field as you type', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors);
  const modal = await openNew(page);
  const error = modal.getByTestId('error-tags');
  await modal.getByLabel('Tags').fill('env=prod, zone');
  await expect(error).toHaveText('Write a tag as key=value, both sides filled in.');
  await modal.getByLabel('Tags').fill('env=pr od');
  await expect(error).toHaveText(
    "' ' is not allowed in a tag: write key=value with letters, digits, '-', '_', '.', ':' and '@'.",
  );
  await modal.getByLabel('Tags').fill('env=prod');
  await expect(error).toBeHidden();
  expect(consoleErrors).toEqual([]);
});

test('more than 32 tags are refused at the tags field', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors);
  const modal = await openNew(page);
  const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(', ');
  await modal.getByLabel('Tags').fill(many);
  await expect(modal.getByTestId('error-tags')).toHaveText('At most 32 tags are allowed.');
  expect(consoleErrors).toEqual([]);
});

test('a name longer than 80 characters is refused at the name field', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors);
  const modal = await openNew(page);
  await modal.getByLabel('Name', { exact: true }).fill('n'.repeat(81));
  await expect(modal.getByTestId('error-name')).toHaveText('A name can have at most 80 characters.');
  expect(consoleErrors).toEqual([]);
});

test('a device id the workspace has is refused at its field by the server', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-01', name: 'First' }]);
  const modal = await openNew(page);
  await modal.getByLabel('Device ID').fill('sensor-01');
  await modal.getByTestId('create-device').click();
  await expect(modal.getByTestId('error-device_id')).toHaveText('This device id is already in this workspace.');
  await expect(modal).toBeVisible();
  await expect(rows(page)).toHaveCount(1);
  // The server's verdict is about what was sent: typing clears it.
  await modal.getByLabel('Device ID').fill('sensor-02');
  await expect(modal.getByTestId('error-device_id')).toBeHidden();
  expect(consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
});

test('Edit replaces the tags, on screen and after a reload', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-01', name: 'Roof', tags: 'env=prod, zone=a' }]);
  const modal = await openEdit(page, 'sensor-01');
  await expect(modal).toHaveAccessibleName('Edit device sensor-01');
  await expect(modal.getByLabel('Tags')).toHaveValue('env=prod, zone=a');
  await modal.getByLabel('Tags').fill('zone=b, floor=2');
  await modal.getByTestId('save-device').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'sensor-01 saved')).toBeVisible();
  await expect.poll(() => chips(deviceRow(page, 'sensor-01'))).toEqual(['floor=2', 'zone=b']);
  await page.reload();
  await expect.poll(() => chips(deviceRow(page, 'sensor-01'))).toEqual(['floor=2', 'zone=b']);
  expect(consoleErrors).toEqual([]);
});

test('a bad tag in the Edit modal is shown at its field and not saved', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-01', tags: 'env=prod' }]);
  const modal = await openEdit(page, 'sensor-01');
  await modal.getByLabel('Tags').fill('env=prod, =x');
  await expect(modal.getByTestId('error-tags')).toHaveText('Write a tag as key=value, both sides filled in.');
  await modal.getByTestId('save-device').click();
  await expect(modal).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  expect(await chips(deviceRow(page, 'sensor-01'))).toEqual(['env=prod']);
  expect(consoleErrors).toEqual([]);
});

test('Delete removes the device after confirming', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-01' }, { device_id: 'sensor-02' }]);
  await deviceRow(page, 'sensor-01').getByTestId('delete').click();
  const modal = page.getByTestId('delete-device-modal');
  await expect(modal).toHaveAccessibleName('Delete sensor-01?');
  await modal.getByTestId('confirm-delete').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'sensor-01 deleted')).toBeVisible();
  await expect(deviceRow(page, 'sensor-01')).toHaveCount(0);
  await expect(deviceRow(page, 'sensor-02')).toHaveCount(1);
  expect(consoleErrors).toEqual([]);
});

test('a bulk paste names each bad line and creates nothing until it is fixed', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-02' }]);
  await page.getByTestId('bulk-devices').click();
  const modal = page.getByTestId('bulk-devices-modal');
  const ids = modal.getByLabel('Device IDs');
  await ids.fill('sensor-01\nsensor-02, sensor-03\nbad id');
  await expect(modal.getByTestId('invalid-line')).toHaveText([
    "Line 3: bad id — ' ' is not allowed in a device id or tag: use letters, digits, '-', '_', '.', ':' and '@'.",
  ]);
  await expect(modal.getByTestId('error-ids')).toContainText('Line 3:');
  await expect(modal.getByTestId('create-devices')).toBeDisabled();
  await expect(rows(page)).toHaveCount(1);
  expect(consoleErrors).toEqual([]);
});

test('a bulk paste says what it will create and skip, then creates it in one go', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-02', name: 'Kept' }]);
  await page.getByTestId('bulk-devices').click();
  const modal = page.getByTestId('bulk-devices-modal');
  await modal.getByLabel('Device IDs').fill('sensor-01\nsensor-02, sensor-03\nsensor-01');
  await expect(modal.getByTestId('paste-summary')).toHaveText('2 to create · 1 already here (skipped) · 1 repeated');
  let requests = 0;
  page.on('request', (r) => {
    if (r.url().includes('/api/devices/create_many')) requests += 1;
  });
  await modal.getByTestId('create-devices').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, '2 devices created · 1 skipped (already in this workspace)')).toBeVisible();
  await expect.poll(() => shownDevices(page)).toHaveLength(3);
  await expect(deviceRow(page, 'sensor-02').locator('.name')).toHaveText('Kept');
  expect(requests).toBe(1);
  expect(consoleErrors).toEqual([]);
});

test('30 devices show 25 on the first page and 5 on the second', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await createDevicesViaApi(page.request, Array.from({ length: 30 }, (_, i) => `dev-${pad(i + 1)}`));
  await gotoApp(page, '/devices?sort=device_id', consoleErrors);
  await expect(page.getByTestId('summary')).toHaveText('1–25 of 30 devices');
  await expect(rows(page)).toHaveCount(25);
  await expect(rows(page).first()).toHaveAttribute('data-device-id', 'dev-01');
  await page.getByTestId('next-page').click();
  await expect(page).toHaveURL(/[?&]page=2\b/);
  await expect(page.getByTestId('summary')).toHaveText('26–30 of 30 devices');
  await expect(rows(page)).toHaveCount(5);
  await expect(rows(page).last()).toHaveAttribute('data-device-id', 'dev-30');
  expect(consoleErrors).toEqual([]);
});

test('page 400 of a 10,000-device workspace shows its 25 devices and links back', async ({ page, consoleErrors }) => {
  test.setTimeout(120_000);
  await signUpViaApi(page);
  const pad5 = (n: number) => String(n).padStart(5, '0');
  for (let start = 0; start < 10_000; start += 1000) {
    await createDevicesViaApi(page.request, Array.from({ length: 1000 }, (_, i) => `dev-${pad5(start + i)}`));
  }
  await gotoApp(page, '/devices?sort=device_id&page=400', consoleErrors);
  await expect(page.getByTestId('summary')).toHaveText('9976–10000 of 10000 devices');
  await expect(rows(page)).toHaveCount(25);
  await expect(rows(page).first()).toHaveAttribute('data-device-id', 'dev-09975');
  await expect(rows(page).last()).toHaveAttribute('data-device-id', 'dev-09999');
  await expect(page.getByTestId('next-page')).toHaveCount(0);
  await expect(page.getByTestId('pagination').locator('.page')).toHaveText(['‹ Previous', '1', '398', '399', '400']);
  await page.getByTestId('prev-page').click();
  await expect(page.getByTestId('summary')).toHaveText('9951–9975 of 10000 devices');
  expect(consoleErrors).toEqual([]);
});

test('sorting by device id flips with a second click', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'bravo' }, { device_id: 'alpha' }, { device_id: 'charlie' }]);
  await page.getByTestId('sort-device_id').click();
  await expect(page).toHaveURL(/sort=device_id/);
  await expect.poll(() => shownDevices(page)).toEqual(['alpha', 'bravo', 'charlie']);
  await page.getByTestId('sort-device_id').click();
  await expect(page).toHaveURL(/dir=desc/);
  await expect.poll(() => shownDevices(page)).toEqual(['charlie', 'bravo', 'alpha']);
  expect(consoleErrors).toEqual([]);
});

test('search finds devices by tag and keeps the search in the URL', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [
    { device_id: 'sensor-01', tags: 'env=prod' },
    { device_id: 'sensor-02', tags: 'env=staging' },
    { device_id: 'pump-01', name: 'Prod pump' },
  ]);
  await page.getByTestId('search').fill('env=prod');
  await expect(page).toHaveURL(/q=env%3Dprod/);
  await expect.poll(() => shownDevices(page)).toEqual(['sensor-01']);
  await page.reload();
  await expect.poll(() => shownDevices(page)).toEqual(['sensor-01']);
  await expect(page.getByTestId('search')).toHaveValue('env=prod');
  expect(consoleErrors).toEqual([]);
});

test('a search that matches nothing says so and offers to clear it', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-01' }], '/devices?q=nothing-like-it');
  const noMatch = page.getByTestId('no-match');
  await expect(noMatch).toContainText('No device matches “nothing-like-it”.');
  await noMatch.getByRole('link', { name: 'Clear the search' }).click();
  await expect(rows(page)).toHaveCount(1);
  expect(consoleErrors).toEqual([]);
});

test('the card view shows each device as a card with its tags', async ({ page, consoleErrors }) => {
  await devicesPage(page, consoleErrors, [{ device_id: 'sensor-01', name: 'Roof', tags: 'env=prod' }]);
  await switchView(page, 'cards');
  const card = page.locator('[data-testid=device-cards] article[data-device-id="sensor-01"]');
  await expect(card.locator('.name')).toHaveText('Roof');
  expect(await chips(card)).toEqual(['env=prod']);
  await card.getByTestId('edit').click();
  await expect(page.getByTestId('edit-device-modal')).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('search, sort and page are in the server-rendered page, before any WASM runs', async ({ page }) => {
  await signUpViaApi(page);
  for (const device of [
    { device_id: 'sensor-01', tags: 'env=prod' },
    { device_id: 'sensor-02', tags: 'env=staging' },
  ]) {
    await createDeviceViaApi(page.request, device);
  }
  // What the plain GET form submits: the answer is the finished page, matches only.
  const response = await page.request.get('/devices?q=env%3Dprod&sort=device_id');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('data-device-id="sensor-01"');
  expect(html).not.toContain('data-device-id="sensor-02"');
  expect(html).toContain('1–1 of 1 devices');
});
