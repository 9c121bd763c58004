// Creating a client with `+ New`: the generated or typed Client ID and key, the one-time reveal
// (connection details, copy, snippets, download) and every bad input refused at its field.
import * as fs from 'node:fs';
import { test, expect } from './fixtures';
import {
  allowClipboard,
  gotoApp,
  reloadApp,
  createClientViaApi,
  finishReveal,
  openNewClientModal,
  readClipboard,
  row,
  signUpViaApi,
  tableRows,
  toast,
  unexpectedErrors,
} from './helpers';
import type { Locator, Page, Response } from '@playwright/test';

const TAKEN = 'This Client ID is taken. Choose another one.';

/** Signs up (Acme Devices, no clients) and opens the empty Clients page. */
async function emptyClientsPage(page: Page, consoleErrors: string[]) {
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/clients', consoleErrors);
  await expect(page.getByTestId('empty-state')).toBeVisible();
}

/**
 * Creates a client through `+ New` with the Client ID and key the modal generated, a name and a
 * description; resolves once the reveal shows.
 */
async function createWithGeneratedValues(page: Page) {
  const modal = await openNewClientModal(page);
  const clientId = await modal.getByLabel('Client ID').inputValue();
  const key = await modal.getByLabel('Key', { exact: true }).inputValue();
  await modal.getByLabel('Name').fill('Boiler room sensor 3');
  await modal.getByLabel('Description').fill('Basement, north wall');
  await modal.getByTestId('create-client').click();
  const reveal = page.getByTestId('reveal');
  await expect(reveal).toBeVisible();
  return { modal, reveal, clientId, key };
}

/** The answer of the live "is this Client ID free?" check for `clientId` (start waiting before typing). */
function liveCheck(page: Page, clientId: string): Promise<Response> {
  return page.waitForResponse(
    (r) =>
      r.url().includes('/api/clients/available') &&
      new URLSearchParams(r.request().postData() ?? '').get('client_id') === clientId,
  );
}

test('the New client modal takes the focus and offers a generated Client ID and key', async ({
  page,
  consoleErrors,
}) => {
  await emptyClientsPage(page, consoleErrors);
  const modal = await openNewClientModal(page);
  // Focus moved into the dialog.
  await expect.poll(() => modal.evaluate((m) => m.contains(document.activeElement))).toBe(true);
  await expect(modal.getByLabel('Client ID')).toHaveValue(/^c-[a-z0-9]{8}$/);
  await expect(modal.getByLabel('Key', { exact: true })).toHaveValue(/^kgk_\S{30,}$/);

  expect(consoleErrors).toEqual([]);
});

test('Generate replaces the Client ID and the key with fresh ones', async ({ page, consoleErrors }) => {
  await emptyClientsPage(page, consoleErrors);
  const modal = await openNewClientModal(page);
  const clientIdField = modal.getByLabel('Client ID');
  const keyField = modal.getByLabel('Key', { exact: true });
  await expect(clientIdField).toHaveValue(/^c-[a-z0-9]{8}$/);
  const firstId = await clientIdField.inputValue();
  const firstKey = await keyField.inputValue();
  await modal.getByTestId('generate-client-id').click();
  await modal.getByTestId('generate-key').click();
  await expect(clientIdField).not.toHaveValue(firstId);
  await expect(keyField).not.toHaveValue(firstKey);
  await expect(clientIdField).toHaveValue(/^c-[a-z0-9]{8}$/);
  await expect(keyField).toHaveValue(/^kgk_/);

  expect(consoleErrors).toEqual([]);
});

test('creating a client reveals its key and connection details', async ({ page, consoleErrors }) => {
  await emptyClientsPage(page, consoleErrors);
  const { modal, reveal, clientId, key } = await createWithGeneratedValues(page);
  await expect(modal).toBeHidden();
  await expect(toast(page, `Client ${clientId} created`)).toBeVisible();
  await expect(reveal.getByRole('heading', { level: 2 })).toHaveText(`Client created: ${clientId}`);
  await expect(reveal).toHaveAccessibleName(`Client created: ${clientId}`);
  await expect(reveal.getByTestId('reveal-client-id')).toHaveText(clientId);
  await expect(reveal.getByTestId('reveal-key')).toHaveText(key);
  expect(key.startsWith('kgk_')).toBe(true);
  await expect(reveal.getByTestId('reveal-host')).toHaveText('127.0.0.1');
  await expect(reveal.getByTestId('reveal-port')).toHaveText(/^\d+$/);
  await expect(reveal.getByTestId('reveal-org')).toHaveText(/^[0-9a-f-]{36}$/);
  await expect(reveal.getByTestId('reveal-username-namespace')).toHaveText('acme-devices');
  const org = await reveal.getByTestId('reveal-org').innerText();
  await expect(reveal.getByTestId('reveal-username-org')).toHaveText(`${clientId}@${org}`);
  await expect(reveal.getByTestId('reveal-username-client')).toHaveText(clientId);

  expect(consoleErrors).toEqual([]);
});

test('the reveal’s Copy buttons put the key and the Client ID on the clipboard', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await allowClipboard(page, keygate.url);
  await emptyClientsPage(page, consoleErrors);
  const { reveal, clientId, key } = await createWithGeneratedValues(page);
  // The key reaches the clipboard intact.
  await reveal.getByTestId('copy-reveal-key').click();
  await expect(reveal.getByTestId('copy-reveal-key')).toHaveText('Copied');
  expect(await readClipboard(page)).toBe(key);
  await reveal.getByTestId('copy-reveal-client-id').click();
  await expect.poll(() => readClipboard(page)).toBe(clientId);

  expect(consoleErrors).toEqual([]);
});

test('the reveal’s snippets carry the key, in each language', async ({ page, consoleErrors }) => {
  await emptyClientsPage(page, consoleErrors);
  const { reveal, clientId, key } = await createWithGeneratedValues(page);
  // A generated key and Client ID hold nothing a shell treats specially: no quotes needed.
  await expect(reveal.getByTestId('snippet')).toContainText(`-P ${key} `);
  await reveal.getByTestId('tab-python').click();
  await expect(reveal.getByTestId('tab-python')).toHaveAttribute('aria-selected', 'true');
  await expect(reveal.getByTestId('snippet')).toContainText('paho');
  await expect(reveal.getByTestId('snippet')).toContainText(`"${key}"`);
  await reveal.getByTestId('tab-javascript').click();
  await expect(reveal.getByTestId('snippet')).toContainText('mqtt.connect');
  await expect(reveal.getByTestId('snippet')).toContainText(`password: "${key}"`);
  // The same key over HTTP: curl to this dashboard's /v1/publish, as the browser reached it.
  await reveal.getByTestId('tab-curl').click();
  await expect(reveal.getByTestId('tab-curl')).toHaveAttribute('aria-selected', 'true');
  await expect(reveal.getByTestId('snippet')).toContainText(`-u ${clientId}:${key} `);
  await expect(reveal.getByTestId('snippet')).toContainText(`${new URL(page.url()).origin}/v1/publish/`);

  expect(consoleErrors).toEqual([]);
});

test('the reveal’s download is a credentials file with the key', async ({ page, consoleErrors }) => {
  await emptyClientsPage(page, consoleErrors);
  const { reveal, clientId, key } = await createWithGeneratedValues(page);
  const [download] = await Promise.all([page.waitForEvent('download'), reveal.getByTestId('download').click()]);
  expect(download.suggestedFilename()).toBe(`keygate-${clientId}.env`);
  const file = fs.readFileSync(await download.path(), 'utf8');
  expect(file).toContain(`MQTT_PASSWORD=${key}\n`);
  expect(file).toContain(`MQTT_CLIENT_ID=${clientId}\n`);
  expect(file).toContain('MQTT_USERNAME=acme-devices\n');

  expect(consoleErrors).toEqual([]);
});

test('the reveal cannot be dismissed before “I have saved this key” is ticked', async ({ page, consoleErrors }) => {
  await emptyClientsPage(page, consoleErrors);
  const { reveal } = await createWithGeneratedValues(page);
  const done = reveal.getByTestId('reveal-done');
  await expect(done).toBeDisabled();
  await page.keyboard.press('Escape');
  await page.mouse.click(5, 5); // the backdrop
  // Give a (wrong) close time to happen: the page has handled both events once it has drawn two
  // frames after them.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await expect(reveal.getByRole('button', { name: 'Close' })).toBeDisabled();
  await expect(reveal).toBeVisible();
  await reveal.getByTestId('saved-checkbox').check();
  await expect(done).toBeEnabled();
  await done.click();
  await expect(reveal).toBeHidden();

  expect(consoleErrors).toEqual([]);
});

test('after the reveal the new client is in the list, without a page load', async ({ page, consoleErrors }) => {
  await emptyClientsPage(page, consoleErrors);
  // Survives only as long as the document does: proves no full page load happens below.
  await page.evaluate(() => ((window as unknown as { __keygateMarker: string }).__keygateMarker = 'still-here'));
  const { clientId } = await createWithGeneratedValues(page);
  await finishReveal(page);

  await expect(row(page, clientId)).toBeVisible();
  await expect(row(page, clientId).locator('.name')).toHaveText('Boiler room sensor 3');
  await expect(row(page, clientId).locator('.description')).toHaveText('Basement, north wall');
  await expect(row(page, clientId).getByTestId('active-switch')).toBeChecked();
  expect(await page.evaluate(() => (window as unknown as { __keygateMarker?: string }).__keygateMarker)).toBe(
    'still-here',
  );
  await expect(page.getByTestId('summary')).toHaveText('1–1 of 1 clients');

  expect(consoleErrors).toEqual([]);
});

test('the key is shown once: after the reveal it is nowhere in the page, nor after a reload', async ({
  page,
  consoleErrors,
}) => {
  await emptyClientsPage(page, consoleErrors);
  const { clientId, key } = await createWithGeneratedValues(page);
  await finishReveal(page);
  await expect(row(page, clientId)).toBeVisible();

  expect(await page.content()).not.toContain(key);
  await reloadApp(page, consoleErrors);
  await expect(row(page, clientId)).toBeVisible();
  expect(await page.content()).not.toContain(key);
  await gotoApp(page, '/clients', consoleErrors);
  expect(await page.content()).not.toContain(key);

  expect(consoleErrors).toEqual([]);
});

test('create a client with my own Client ID and key', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await gotoApp(page, '/clients', consoleErrors);
  const modal = await openNewClientModal(page);
  await modal.getByLabel('Name').fill('Sensor one');
  const checked = liveCheck(page, 'sensor-01');
  await modal.getByLabel('Client ID').fill('sensor-01');
  await modal.getByLabel('Key', { exact: true }).fill('my-own-key-1234567');
  // The live "taken?" check answered that the id is free: no error may appear for it.
  expect(await (await checked).json()).toBe('Available');
  await expect(modal.getByTestId('error-client_id')).toHaveText('');
  await expect(modal.getByTestId('error-key')).toHaveText('');
  await modal.getByTestId('create-client').click();

  const reveal = page.getByTestId('reveal');
  await expect(reveal.getByTestId('reveal-client-id')).toHaveText('sensor-01');
  await expect(reveal.getByTestId('reveal-key')).toHaveText('my-own-key-1234567');
  await expect(reveal.getByTestId('reveal-username-client')).toHaveText('sensor-01');
  await expect(reveal.getByTestId('snippet')).toContainText('-i sensor-01 ');
  await expect(reveal.getByTestId('snippet')).toContainText('-P my-own-key-1234567 ');
  await finishReveal(page);

  await expect(row(page, 'sensor-01')).toBeVisible();
  await expect(row(page, 'sensor-01').locator('.name')).toHaveText('Sensor one');
  expect(consoleErrors).toEqual([]);
});

// Bad input in the New client modal. One client, taken-01, exists already.

/** Signs up with the client taken-01, opens the Clients page and the New client modal. */
async function newClientForm(page: Page, consoleErrors: string[]) {
  await signUpViaApi(page);
  await createClientViaApi(page, { client_id: 'taken-01', name: 'Already here' });
  await gotoApp(page, '/clients', consoleErrors);
  await expect(tableRows(page)).toHaveCount(1);
  const modal = await openNewClientModal(page);
  return {
    modal,
    name: modal.getByLabel('Name'),
    clientId: modal.getByLabel('Client ID'),
    key: modal.getByLabel('Key', { exact: true }),
    idError: modal.getByTestId('error-client_id'),
    keyError: modal.getByTestId('error-key'),
    create: modal.getByTestId('create-client'),
  };
}

/** Submitting did not create a client: the modal stays, with no reveal. */
async function expectRefused(page: Page, modal: Locator) {
  await expect(modal).toBeVisible();
  await expect(page.getByTestId('reveal')).toHaveCount(0);
}

/**
 * Esc closes the modal, and the list still holds taken-01 only; with `reload`, also after a reload
 * (for a submit the server refused; a refusal at the field sends nothing).
 */
async function expectNothingCreated(page: Page, consoleErrors: string[], { reload = false } = {}) {
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('new-client-modal')).toBeHidden();
  await expect(tableRows(page)).toHaveCount(1);
  if (reload) {
    await reloadApp(page, consoleErrors);
    await expect(tableRows(page)).toHaveCount(1);
  }
  await expect(page.getByTestId('summary')).toHaveText('1–1 of 1 clients');
}

test('an empty name is refused on submit, not before, and its message goes once a name is typed', async ({
  page,
  consoleErrors,
}) => {
  const { modal, name, idError, keyError, create } = await newClientForm(page, consoleErrors);
  // Nothing is wrong yet: the name error waits for a submit.
  await expect(modal.getByTestId('error-name')).toHaveText('');
  await expect(idError).toHaveText('');
  await expect(keyError).toHaveText('');

  await create.click();
  await expect(modal.getByTestId('error-name')).toHaveText('Enter a name.');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expectRefused(page, modal);
  await name.fill('Test device');
  await expect(modal.getByTestId('error-name')).toHaveText('');

  await expectNothingCreated(page, consoleErrors);
  expect(consoleErrors).toEqual([]);
});

test('a bad Client ID is refused at its field, and submitting creates nothing', async ({ page, consoleErrors }) => {
  const { modal, name, clientId, idError, create } = await newClientForm(page, consoleErrors);
  await name.fill('Test device');
  const idCases: Array<[string, string]> = [
    ['bad/id', "'/' is not allowed in a Client ID: use letters, digits, '-', '_' and '.'."],
    ['bad id', "' ' is not allowed in a Client ID: use letters, digits, '-', '_' and '.'."],
    ['dev+1', "'+' is not allowed in a Client ID"],
    ['ab', 'A Client ID needs at least 3 characters.'],
    ['x'.repeat(65), 'A Client ID can have at most 64 characters.'],
  ];
  for (const [value, message] of idCases) {
    await clientId.fill(value);
    await expect(idError, `error for Client ID ${JSON.stringify(value)}`).toContainText(message);
    await expect(clientId).toHaveAttribute('aria-invalid', 'true');
    await create.click();
    await expectRefused(page, modal);
  }
  await clientId.fill('x'.repeat(64));
  await expect(idError).toHaveText('');

  await expectNothingCreated(page, consoleErrors);
  expect(consoleErrors).toEqual([]);
});

test('a bad key is refused at its field, and submitting creates nothing', async ({ page, consoleErrors }) => {
  const { modal, name, key, keyError, create } = await newClientForm(page, consoleErrors);
  await name.fill('Test device');
  const keyCases: Array<[string, string]> = [
    ['short-key', 'A key needs at least 16 characters.'],
    ['has a space in it!', 'Use printable ASCII characters without spaces in a key.'],
    ['', 'Enter a key, or generate one.'],
  ];
  for (const [value, message] of keyCases) {
    await key.fill(value);
    await expect(keyError, `error for key ${JSON.stringify(value)}`).toHaveText(message);
    await create.click();
    await expectRefused(page, modal);
  }
  await key.fill('a-perfectly-fine-key');
  await expect(keyError).toHaveText('');

  await expectNothingCreated(page, consoleErrors);
  expect(consoleErrors).toEqual([]);
});

test('a taken Client ID is refused on submit even when the live check said it was free', async ({
  page,
  consoleErrors,
}) => {
  const { modal, name, clientId, idError, create } = await newClientForm(page, consoleErrors);
  await name.fill('Test device');
  // As when someone takes the id between the live check and the submit: the live check answers
  // "Available".
  await page.route('**/api/clients/available', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: '"Available"' }),
  );
  const checked = liveCheck(page, 'taken-01');
  await clientId.fill('taken-01');
  await checked;
  await expect(idError).toHaveText('');
  const refused = page.waitForResponse((r) => r.url().includes('/api/clients/create'));
  await create.click();
  expect((await refused).ok()).toBe(false);
  await expect(idError).toHaveText(TAKEN);
  await expectRefused(page, modal);
  await page.unroute('**/api/clients/available');

  // Editing clears the server's verdict; a free id shows no error.
  const free = liveCheck(page, 'free-01');
  await clientId.fill('free-01');
  expect(await (await free).json()).toBe('Available');
  await expect(idError).toHaveText('');

  await expectNothingCreated(page, consoleErrors, { reload: true });
  // The only failed request is the refused create (the id was taken).
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a taken Client ID is reported as you type, before any submit', async ({ page, consoleErrors }) => {
  const { modal, name, clientId, idError, create } = await newClientForm(page, consoleErrors);
  await name.fill('Test device');
  await clientId.fill('taken-01');
  await expect(idError).toHaveText(TAKEN);
  await expect(clientId).toHaveAttribute('aria-invalid', 'true');
  await create.click();
  await expectRefused(page, modal);
  await expect(idError).toHaveText(TAKEN);

  await expectNothingCreated(page, consoleErrors);
  expect(consoleErrors).toEqual([]);
});

test('Esc or a backdrop click closes the New client modal', async ({ page, consoleErrors }) => {
  const { modal } = await newClientForm(page, consoleErrors);
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await openNewClientModal(page);
  await page.mouse.click(5, 5); // the backdrop
  await expect(modal).toBeHidden();
  await expect(tableRows(page)).toHaveCount(1);

  expect(consoleErrors).toEqual([]);
});
