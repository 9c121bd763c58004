import { test, expect, gotoHydrated, screenshot, uniqueEmail } from './fixtures';

test('sign-up lands on an empty Clients page', async ({ page, consoleErrors }) => {
  await gotoHydrated(page, '/signup');
  await screenshot(page, 'signup');

  await page.getByLabel('Email').fill(uniqueEmail('owner'));
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery staple');
  await page.getByLabel('Organization name').fill('Acme Devices');
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/clients(\?.*)?$/);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.getByTestId('new-client')).toBeVisible();
  await screenshot(page, 'clients-empty');

  expect(consoleErrors).toEqual([]);
});
