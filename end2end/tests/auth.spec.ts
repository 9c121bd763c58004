import { test, expect, gotoHydrated, uniqueEmail, waitForHydration } from './fixtures';
import { PASSWORD, unexpectedErrors } from './helpers';

test('sign up via the form, sign out, then sign in (wrong password first)', async ({ page, consoleErrors }) => {
  const email = uniqueEmail('ui');
  await gotoHydrated(page, '/signup');

  // A password the server refuses: the message sits at the field and nobody is signed up.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Organization name').fill('Globex Sensors');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('error-password')).toContainText('at least 10 characters');
  await expect(page).toHaveURL(/\/signup$/);

  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/clients$/);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.locator('header .email')).toHaveText(email);
  await expect(page.getByTestId('namespace')).toHaveText('globex-sensors');

  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/signin$/);
  // The session is really gone: the Clients page sends us back.
  await page.goto('/clients');
  await expect(page).toHaveURL(/\/signin$/);
  await waitForHydration(page);

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the right password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('error-password')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/signin$/);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/clients$/);
  await expect(page.locator('header .email')).toHaveText(email);
  await expect(page.getByTestId('empty-state')).toBeVisible();

  // The refused sign-up and the wrong password answer with an HTTP error; nothing else may fail.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a signed-out visitor to /clients or /settings is sent to /signin', async ({ page, consoleErrors }) => {
  await page.goto('/clients');
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('client-table')).toHaveCount(0);

  await page.goto('/settings');
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByTestId('organization-id')).toHaveCount(0);

  // Also when the redirect comes from the hydrated app, not from the server.
  await gotoHydrated(page, '/signin');
  await page.evaluate(() => history.pushState({}, '', '/clients'));
  await page.evaluate(() => window.dispatchEvent(new PopStateEvent('popstate')));
  await expect(page).toHaveURL(/\/signin$/);

  expect(consoleErrors).toEqual([]);
});
