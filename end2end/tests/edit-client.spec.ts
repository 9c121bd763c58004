import { test, expect } from './fixtures';
import {
  createClientsViaApi,
  createClientViaApi,
  finishReveal,
  gotoApp,
  reloadApp,
  row,
  signUpViaApi,
  toast,
} from './helpers';

test('edit a client’s name and description', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await createClientsViaApi(page, [
    { client_id: 'edit-me', name: 'Old name', description: 'Old description' },
    { client_id: 'leave-me', name: 'Untouched', description: 'Same as before' },
  ]);
  await gotoApp(page, '/clients', consoleErrors);

  await row(page, 'edit-me').getByTestId('edit').click();
  const modal = page.getByTestId('edit-client-modal');
  await expect(modal).toBeVisible();
  await expect(modal).toHaveAccessibleName('Edit client edit-me');
  await expect(modal.getByLabel('Name', { exact: true })).toHaveValue('Old name');
  await expect(modal.getByLabel('Description', { exact: true })).toHaveValue('Old description');
  // Connection details, but never a key.
  await expect(modal.getByTestId('edit-client-id')).toHaveText('edit-me');
  await expect(modal.getByTestId('edit-username-namespace')).toHaveText('acme-devices');
  await expect(modal.getByText('The key is not shown')).toBeVisible();

  // An empty name is refused at the field.
  await modal.getByLabel('Name', { exact: true }).fill('');
  await expect(modal.getByTestId('error-name')).toHaveText('Enter a name.');
  await modal.getByTestId('save-client').click();
  await expect(modal).toBeVisible();

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

  // Cancel (Esc) keeps the saved values.
  await row(page, 'edit-me').getByTestId('edit').click();
  await expect(modal.getByLabel('Name', { exact: true })).toHaveValue('Boiler room sensor 3');
  await modal.getByLabel('Name', { exact: true }).fill('Not saved');
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await expect(row(page, 'edit-me').locator('.name')).toHaveText('Boiler room sensor 3');

  expect(consoleErrors).toEqual([]);
});

test('regenerate a key: generated, then my own (too short first)', async ({ page, consoleErrors }) => {
  const oldKey = 'the-original-key-0001';
  await signUpViaApi(page);
  await createClientViaApi(page, { client_id: 'rotate-me', name: 'Rotating', key: oldKey });
  await gotoApp(page, '/clients', consoleErrors);
  const modal = page.getByTestId('edit-client-modal');
  const reveal = page.getByTestId('reveal');

  // 1. A generated key.
  await row(page, 'rotate-me').getByTestId('edit').click();
  await modal.getByTestId('regenerate').click();
  await expect(modal).toHaveAccessibleName('Regenerate key for rotate-me');
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
  expect(generated).not.toBe(oldKey);
  await expect(reveal.getByTestId('snippet')).toContainText(generated);
  await expect(reveal.getByTestId('reveal-done')).toBeDisabled();
  await finishReveal(page);
  await expect(modal).toBeHidden();
  expect(await page.content()).not.toContain(generated);

  // 2. My own key; too short first.
  await row(page, 'rotate-me').getByTestId('edit').click();
  await modal.getByTestId('regenerate').click();
  await modal.getByTestId('key-own').check();
  await expect(modal.getByTestId('key-generated')).not.toBeChecked();
  const ownKey = modal.getByLabel('Your key');
  await ownKey.fill('too-short');
  await expect(modal.getByTestId('error-key')).toHaveText('A key needs at least 16 characters.');
  await modal.getByTestId('confirm-regenerate').click();
  await expect(reveal).toHaveCount(0);
  await expect(modal).toBeVisible();
  await ownKey.fill('with a space in it');
  await expect(modal.getByTestId('error-key')).toHaveText('Use printable ASCII characters without spaces in a key.');
  await ownKey.fill('my-rotated-key-98765');
  await expect(modal.getByTestId('error-key')).toHaveText('');
  await modal.getByTestId('confirm-regenerate').click();

  await expect(reveal.getByRole('heading', { level: 2 })).toHaveText(/^New key for rotate-me/);
  await expect(reveal.getByTestId('reveal-key')).toHaveText('my-rotated-key-98765');
  await finishReveal(page);

  // "Back" leaves the regenerate step without changing anything.
  await row(page, 'rotate-me').getByTestId('edit').click();
  await modal.getByTestId('regenerate').click();
  await modal.getByRole('button', { name: 'Back' }).click();
  await expect(modal.getByTestId('save-client')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();

  // Both regenerations are in the audit log.
  await gotoApp(page, '/settings', consoleErrors);
  await expect(page.getByTestId('activity').locator('tr', { hasText: 'client.key_regenerated' })).toHaveCount(2);

  expect(consoleErrors).toEqual([]);
});
