// The Edit modal: a client's name and description, and regenerating its key (generated or typed).
import { test, expect } from './fixtures';
import {
  createClientsViaApi,
  finishReveal,
  gotoApp,
  reloadApp,
  row,
  signUpViaApi,
  toast,
  type NewClient,
} from './helpers';
import type { Page } from '@playwright/test';

const EDIT_ME: NewClient = { client_id: 'edit-me', name: 'Old name', description: 'Old description' };
const LEAVE_ME: NewClient = { client_id: 'leave-me', name: 'Untouched', description: 'Same as before' };
const OLD_KEY = 'the-original-key-0001';
const ROTATE_ME: NewClient = { client_id: 'rotate-me', name: 'Rotating', key: OLD_KEY };

/** Signs up, creates `clients` and opens the Clients page. */
async function clientsPage(page: Page, consoleErrors: string[], clients: NewClient[]) {
  await signUpViaApi(page);
  await createClientsViaApi(page, clients);
  await gotoApp(page, '/clients', consoleErrors);
}

/** Opens a client's Edit modal from the list. */
async function openEdit(page: Page, clientId: string) {
  await row(page, clientId).getByTestId('edit').click();
  const modal = page.getByTestId('edit-client-modal');
  await expect(modal).toBeVisible();
  return modal;
}

/** Opens a client's Edit modal and its regenerate step. */
async function openRegenerate(page: Page, clientId: string) {
  const modal = await openEdit(page, clientId);
  await modal.getByTestId('regenerate').click();
  await expect(modal).toHaveAccessibleName(`Regenerate key for ${clientId}`);
  return modal;
}

test('the Edit modal shows the client’s name, description and connection details, never its key', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors, [EDIT_ME, LEAVE_ME]);
  const modal = await openEdit(page, 'edit-me');
  await expect(modal).toHaveAccessibleName('Edit client edit-me');
  await expect(modal.getByLabel('Name', { exact: true })).toHaveValue('Old name');
  await expect(modal.getByLabel('Description', { exact: true })).toHaveValue('Old description');
  // Connection details, but never a key.
  await expect(modal.getByTestId('edit-client-id')).toHaveText('edit-me');
  await expect(modal.getByTestId('edit-username-namespace')).toHaveText('acme-devices');
  await expect(modal.getByText('The key is not shown')).toBeVisible();

  expect(consoleErrors).toEqual([]);
});

test('an empty name is refused at the field and not saved', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [EDIT_ME, LEAVE_ME]);
  const modal = await openEdit(page, 'edit-me');
  await modal.getByLabel('Name', { exact: true }).fill('');
  await expect(modal.getByTestId('error-name')).toHaveText('Enter a name.');
  await modal.getByTestId('save-client').click();
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId('error-name')).toHaveText('Enter a name.');

  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await expect(row(page, 'edit-me').locator('.name')).toHaveText('Old name');

  expect(consoleErrors).toEqual([]);
});

test('Save changes the name and description, on screen and on the server', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [EDIT_ME, LEAVE_ME]);
  const modal = await openEdit(page, 'edit-me');
  await modal.getByLabel('Name', { exact: true }).fill('Boiler room sensor 3');
  await modal.getByLabel('Description', { exact: true }).fill('Moved to the east wall');
  await expect(modal.getByTestId('error-name')).toHaveText('');
  await modal.getByTestId('save-client').click();

  await expect(modal).toBeHidden();
  await expect(toast(page, 'edit-me saved')).toBeVisible();
  await expect(row(page, 'edit-me').locator('.name')).toHaveText('Boiler room sensor 3');
  await expect(row(page, 'edit-me').locator('.description')).toHaveText('Moved to the east wall');
  await expect(row(page, 'leave-me').locator('.name')).toHaveText('Untouched');

  // Saved on the server, not just on screen.
  await reloadApp(page, consoleErrors);
  await expect(row(page, 'edit-me').locator('.name')).toHaveText('Boiler room sensor 3');
  await expect(row(page, 'edit-me').locator('.description')).toHaveText('Moved to the east wall');
  await expect(row(page, 'leave-me').locator('.description')).toHaveText('Same as before');
  await openEdit(page, 'edit-me');
  await expect(modal.getByLabel('Name', { exact: true })).toHaveValue('Boiler room sensor 3');
  await expect(modal.getByLabel('Description', { exact: true })).toHaveValue('Moved to the east wall');

  expect(consoleErrors).toEqual([]);
});

test('Esc closes the Edit modal without saving', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [EDIT_ME, LEAVE_ME]);
  const modal = await openEdit(page, 'edit-me');
  await modal.getByLabel('Name', { exact: true }).fill('Not saved');
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await expect(row(page, 'edit-me').locator('.name')).toHaveText('Old name');
  // The edit is gone, not just hidden.
  await openEdit(page, 'edit-me');
  await expect(modal.getByLabel('Name', { exact: true })).toHaveValue('Old name');

  expect(consoleErrors).toEqual([]);
});

test('regenerating with a generated key reveals the new key once', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [ROTATE_ME]);
  const modal = await openRegenerate(page, 'rotate-me');
  const reveal = page.getByTestId('reveal');
  await expect(modal.getByTestId('key-generated')).toBeChecked();
  await expect(modal.getByTestId('key-own')).not.toBeChecked();
  await expect(modal.getByLabel('Your key')).toHaveCount(0);
  await modal.getByTestId('confirm-regenerate').click();

  await expect(reveal).toBeVisible();
  await expect(toast(page, 'New key for rotate-me')).toBeVisible();
  await expect(reveal.getByRole('heading', { level: 2 })).toHaveText(/^New key for rotate-me/);
  await expect(reveal.getByText('The previous key has stopped working.')).toBeVisible();
  await expect(reveal.getByTestId('reveal-client-id')).toHaveText('rotate-me');
  const generated = await reveal.getByTestId('reveal-key').innerText();
  expect(generated).toMatch(/^kgk_\S{30,}$/);
  expect(generated).not.toBe(OLD_KEY);
  await expect(reveal.getByTestId('snippet')).toContainText(generated);
  await expect(reveal.getByTestId('reveal-done')).toBeDisabled();
  await finishReveal(page);
  await expect(modal).toBeHidden();
  expect(await page.content()).not.toContain(generated);

  expect(consoleErrors).toEqual([]);
});

test('my own key is refused at the field when it is too short or has a space', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [ROTATE_ME]);
  const modal = await openRegenerate(page, 'rotate-me');
  await modal.getByTestId('key-own').check();
  await expect(modal.getByTestId('key-generated')).not.toBeChecked();
  const ownKey = modal.getByLabel('Your key');
  await ownKey.fill('too-short');
  await expect(modal.getByTestId('error-key')).toHaveText('A key needs at least 16 characters.');
  await modal.getByTestId('confirm-regenerate').click();
  await expect(page.getByTestId('reveal')).toHaveCount(0);
  await expect(modal).toBeVisible();
  await ownKey.fill('with a space in it');
  await expect(modal.getByTestId('error-key')).toHaveText('Use printable ASCII characters without spaces in a key.');
  await ownKey.fill('my-rotated-key-98765');
  await expect(modal.getByTestId('error-key')).toHaveText('');

  expect(consoleErrors).toEqual([]);
});

test('regenerating with my own key reveals that key', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [ROTATE_ME]);
  const modal = await openRegenerate(page, 'rotate-me');
  const reveal = page.getByTestId('reveal');
  await modal.getByTestId('key-own').check();
  await modal.getByLabel('Your key').fill('my-rotated-key-98765');
  await modal.getByTestId('confirm-regenerate').click();

  await expect(reveal.getByRole('heading', { level: 2 })).toHaveText(/^New key for rotate-me/);
  await expect(reveal.getByTestId('reveal-key')).toHaveText('my-rotated-key-98765');
  await finishReveal(page);
  await expect(modal).toBeHidden();

  expect(consoleErrors).toEqual([]);
});

test('Back leaves the regenerate step for the Edit form', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, [ROTATE_ME]);
  const modal = await openRegenerate(page, 'rotate-me');
  await modal.getByRole('button', { name: 'Back' }).click();
  await expect(modal.getByTestId('save-client')).toBeVisible();
  await expect(modal).toHaveAccessibleName('Edit client rotate-me');
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();

  expect(consoleErrors).toEqual([]);
});

test('every regeneration is in the audit log; a refused key or Back adds nothing', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors, [ROTATE_ME]);
  // A generated key.
  let modal = await openRegenerate(page, 'rotate-me');
  await modal.getByTestId('confirm-regenerate').click();
  await finishReveal(page);
  // My own key, too short first.
  modal = await openRegenerate(page, 'rotate-me');
  await modal.getByTestId('key-own').check();
  await modal.getByLabel('Your key').fill('too-short');
  await modal.getByTestId('confirm-regenerate').click();
  await expect(modal.getByTestId('error-key')).toHaveText('A key needs at least 16 characters.');
  await modal.getByLabel('Your key').fill('my-rotated-key-98765');
  await modal.getByTestId('confirm-regenerate').click();
  await finishReveal(page);
  // Back.
  modal = await openRegenerate(page, 'rotate-me');
  await modal.getByRole('button', { name: 'Back' }).click();
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();

  await gotoApp(page, '/settings/activity', consoleErrors);
  await expect(page.getByTestId('activity').locator('tr', { hasText: 'client.key_regenerated' })).toHaveCount(2);

  expect(consoleErrors).toEqual([]);
});
