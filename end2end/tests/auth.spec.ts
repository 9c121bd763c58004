// Signing up, signing out and signing in through the forms, and what a signed-out visitor sees.
import { test, expect, gotoHydrated, uniqueEmail, waitForHydration } from './fixtures';
import { gotoApp, PASSWORD, signUpViaApi, unexpectedErrors } from './helpers';
import type { APIRequestContext, Page } from '@playwright/test';

/** Fills the sign-up form (on /signup, hydrated) and submits it. */
async function submitSignUp(page: Page, email: string, password: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Organization name').fill('Globex Sensors');
  await page.getByRole('button', { name: 'Create account' }).click();
}

/**
 * An account made through the API with a request context of its own, so the page stays signed
 * out, and the sign-in form, hydrated.
 */
async function accountAndSignInForm(page: Page, request: APIRequestContext) {
  const account = await signUpViaApi(request);
  await gotoHydrated(page, '/signin');
  return account;
}

test('sign-up via the form lands on the empty Clients page, signed in, in the new namespace', async ({
  page,
  consoleErrors,
}) => {
  const email = uniqueEmail('ui');
  await gotoHydrated(page, '/signup');
  await submitSignUp(page, email, PASSWORD);
  await expect(page).toHaveURL(/\/clients$/);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(page.locator('header .email')).toHaveText(email);
  await expect(page.getByTestId('namespace')).toHaveText('globex-sensors');

  expect(consoleErrors).toEqual([]);
});

test('sign-up refuses a too-short password at the field, and the address is still free once it is fixed', async ({
  page,
  consoleErrors,
}) => {
  const email = uniqueEmail('ui');
  await gotoHydrated(page, '/signup');
  const refused = page.waitForResponse((r) => r.url().includes('/api/account/sign_up'));
  await submitSignUp(page, email, 'short');
  expect((await refused).ok()).toBe(false);
  await expect(page.getByTestId('error-password')).toContainText('at least 10 characters');
  await expect(page).toHaveURL(/\/signup$/);

  // Nobody was signed up: the same address signs up with a good password.
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/clients$/);
  await expect(page.locator('header .email')).toHaveText(email);

  // The refused sign-up answers with an HTTP error; nothing else may fail.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('sign-out ends the session: the Clients page sends you to /signin', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await gotoApp(page, '/clients', consoleErrors);
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/signin$/);
  // The session is really gone: the Clients page sends us back.
  await page.goto('/clients');
  await expect(page).toHaveURL(/\/signin$/);
  await waitForHydration(page);

  expect(consoleErrors).toEqual([]);
});

test('sign-in with a wrong password is refused with a message', async ({ page, request, consoleErrors }) => {
  const { email } = await accountAndSignInForm(page, request);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not the right password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('error-password')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/signin$/);

  // The wrong password answers with an HTTP error; nothing else may fail.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('sign-in via the form lands on the Clients page, signed in', async ({ page, request, consoleErrors }) => {
  const { email, password } = await accountAndSignInForm(page, request);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/clients$/);
  await expect(page.locator('header .email')).toHaveText(email);
  await expect(page.getByTestId('empty-state')).toBeVisible();

  expect(consoleErrors).toEqual([]);
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
