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

test('create a client with the generated id and key: reveal, copy, download, confirm, no key left behind', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await allowClipboard(page, keygate.url);
  await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/clients', consoleErrors);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  // Survives only as long as the document does: proves no full page load happens below.
  await page.evaluate(() => ((window as unknown as { __keygateMarker: string }).__keygateMarker = 'still-here'));

  const modal = await openNewClientModal(page);
  // Focus moved into the dialog.
  await expect.poll(() => modal.evaluate((m) => m.contains(document.activeElement))).toBe(true);
  const clientIdField = modal.getByLabel('Client ID');
  const keyField = modal.getByLabel('Key', { exact: true });
  await expect(clientIdField).toHaveValue(/^c-[a-z0-9]{8}$/);
  await expect(keyField).toHaveValue(/^kgk_\S{30,}$/);

  // "Generate" replaces both with fresh values.
  const firstId = await clientIdField.inputValue();
  const firstKey = await keyField.inputValue();
  await modal.getByTestId('generate-client-id').click();
  await modal.getByTestId('generate-key').click();
  await expect(clientIdField).not.toHaveValue(firstId);
  await expect(keyField).not.toHaveValue(firstKey);
  await expect(clientIdField).toHaveValue(/^c-[a-z0-9]{8}$/);
  await expect(keyField).toHaveValue(/^kgk_/);

  const clientId = await clientIdField.inputValue();
  const key = await keyField.inputValue();
  await modal.getByLabel('Name').fill('Boiler room sensor 3');
  await modal.getByLabel('Description').fill('Basement, north wall');
  await modal.getByTestId('create-client').click();

  const reveal = page.getByTestId('reveal');
  await expect(reveal).toBeVisible();
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

  // The key reaches the clipboard intact.
  await reveal.getByTestId('copy-reveal-key').click();
  await expect(reveal.getByTestId('copy-reveal-key')).toHaveText('Copied');
  expect(await readClipboard(page)).toBe(key);
  await reveal.getByTestId('copy-reveal-client-id').click();
  await expect.poll(() => readClipboard(page)).toBe(clientId);

  // Snippets carry the key, in each language.
  await expect(reveal.getByTestId('snippet')).toContainText(`-P '${key}'`);
  await reveal.getByTestId('tab-python').click();
  await expect(reveal.getByTestId('tab-python')).toHaveAttribute('aria-selected', 'true');
  await expect(reveal.getByTestId('snippet')).toContainText('paho');
  await expect(reveal.getByTestId('snippet')).toContainText(`"${key}"`);
  await reveal.getByTestId('tab-javascript').click();
  await expect(reveal.getByTestId('snippet')).toContainText('mqtt.connect');
  await expect(reveal.getByTestId('snippet')).toContainText(`password: "${key}"`);

  // The credentials file.
  const [download] = await Promise.all([page.waitForEvent('download'), reveal.getByTestId('download').click()]);
  expect(download.suggestedFilename()).toBe(`keygate-${clientId}.env`);
  const file = fs.readFileSync(await download.path(), 'utf8');
  expect(file).toContain(`MQTT_PASSWORD=${key}\n`);
  expect(file).toContain(`MQTT_CLIENT_ID=${clientId}\n`);
  expect(file).toContain('MQTT_USERNAME=acme-devices\n');

  // Cannot be dismissed before "I have saved this key" is ticked.
  const done = reveal.getByTestId('reveal-done');
  await expect(done).toBeDisabled();
  await page.keyboard.press('Escape');
  await page.mouse.click(5, 5); // the backdrop
  await page.waitForTimeout(200); // give a (wrong) close time to happen
  await expect(reveal.getByRole('button', { name: 'Close' })).toBeDisabled();
  await expect(reveal).toBeVisible();
  await reveal.getByTestId('saved-checkbox').check();
  await expect(done).toBeEnabled();
  await done.click();
  await expect(reveal).toBeHidden();

  // The new row is in the list, and the document is the same one (no reload happened).
  await expect(row(page, clientId)).toBeVisible();
  await expect(row(page, clientId).locator('.name')).toHaveText('Boiler room sensor 3');
  await expect(row(page, clientId).locator('.description')).toHaveText('Basement, north wall');
  await expect(row(page, clientId).getByTestId('active-switch')).toBeChecked();
  expect(await page.evaluate(() => (window as unknown as { __keygateMarker?: string }).__keygateMarker)).toBe(
    'still-here',
  );
  await expect(page.getByTestId('summary')).toHaveText('1–1 of 1 clients');

  // The key is shown once: it is nowhere in the page any more, nor after a reload.
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
  await modal.getByLabel('Client ID').fill('sensor-01');
  await modal.getByLabel('Key', { exact: true }).fill('my-own-key-1234567');
  // Wait for the live "taken?" check to have answered: no error may appear for a free id.
  await page.waitForTimeout(400);
  await expect(modal.getByTestId('error-client_id')).toHaveText('');
  await expect(modal.getByTestId('error-key')).toHaveText('');
  await modal.getByTestId('create-client').click();

  const reveal = page.getByTestId('reveal');
  await expect(reveal.getByTestId('reveal-client-id')).toHaveText('sensor-01');
  await expect(reveal.getByTestId('reveal-key')).toHaveText('my-own-key-1234567');
  await expect(reveal.getByTestId('reveal-username-client')).toHaveText('sensor-01');
  await expect(reveal.getByTestId('snippet')).toContainText("-i 'sensor-01'");
  await expect(reveal.getByTestId('snippet')).toContainText("-P 'my-own-key-1234567'");
  await finishReveal(page);

  await expect(row(page, 'sensor-01')).toBeVisible();
  await expect(row(page, 'sensor-01').locator('.name')).toHaveText('Sensor one');
  expect(consoleErrors).toEqual([]);
});

test('the Add Client modal shows each bad input at its field and creates nothing', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await createClientViaApi(page, { client_id: 'taken-01', name: 'Already here' });
  await gotoApp(page, '/clients', consoleErrors);
  await expect(tableRows(page)).toHaveCount(1);

  const modal = await openNewClientModal(page);
  const name = modal.getByLabel('Name');
  const clientId = modal.getByLabel('Client ID');
  const key = modal.getByLabel('Key', { exact: true });
  const idError = modal.getByTestId('error-client_id');
  const keyError = modal.getByTestId('error-key');
  const create = modal.getByTestId('create-client');

  // Nothing is wrong yet: the name error waits for a submit.
  await expect(modal.getByTestId('error-name')).toHaveText('');
  await expect(idError).toHaveText('');
  await expect(keyError).toHaveText('');

  // An empty name, on submit.
  await create.click();
  await expect(modal.getByTestId('error-name')).toHaveText('Enter a name.');
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await name.fill('Test device');
  await expect(modal.getByTestId('error-name')).toHaveText('');

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
    await expect(modal).toBeVisible();
    await expect(page.getByTestId('reveal')).toHaveCount(0);
  }
  await clientId.fill('x'.repeat(64));
  await expect(idError).toHaveText('');

  const keyCases: Array<[string, string]> = [
    ['short-key', 'A key needs at least 16 characters.'],
    ['has a space in it!', 'Use printable ASCII characters without spaces in a key.'],
    ['', 'Enter a key, or generate one.'],
  ];
  for (const [value, message] of keyCases) {
    await key.fill(value);
    await expect(keyError, `error for key ${JSON.stringify(value)}`).toHaveText(message);
    await create.click();
    await expect(modal).toBeVisible();
    await expect(page.getByTestId('reveal')).toHaveCount(0);
  }
  await key.fill('a-perfectly-fine-key');
  await expect(keyError).toHaveText('');

  // A taken id is checked again on submit, even when the live check said "free" (as when someone
  // takes it in between): simulate that by answering the live check with "Available".
  await page.route('**/api/clients/available', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: '"Available"' }),
  );
  await clientId.fill('taken-01');
  await page.waitForTimeout(400);
  await expect(idError).toHaveText('');
  await create.click();
  await expect(idError).toHaveText('This Client ID is taken. Choose another one.');
  await expect(modal).toBeVisible();
  await expect(page.getByTestId('reveal')).toHaveCount(0);
  await page.unroute('**/api/clients/available');

  // Editing clears the server's verdict; a free id shows no error.
  await clientId.fill('free-01');
  await page.waitForTimeout(400);
  await expect(idError).toHaveText('');

  // A taken id is reported as you type (after a short pause), before any submit.
  await clientId.fill('taken-01');
  await expect(idError).toHaveText('This Client ID is taken. Choose another one.');
  await expect(clientId).toHaveAttribute('aria-invalid', 'true');
  await create.click();
  await expect(modal).toBeVisible();
  await expect(idError).toHaveText('This Client ID is taken. Choose another one.');

  // Esc closes the modal; nothing was created.
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await expect(tableRows(page)).toHaveCount(1);
  await reloadApp(page, consoleErrors);
  await expect(tableRows(page)).toHaveCount(1);
  await expect(page.getByTestId('summary')).toHaveText('1–1 of 1 clients');

  // A backdrop click closes it too.
  await openNewClientModal(page);
  await page.mouse.click(5, 5);
  await expect(modal).toBeHidden();

  // The only failed request is the refused create (the id was taken).
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
