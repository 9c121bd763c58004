// Teams from the browser: an invited viewer reads the owner's clients and can change none of them,
// a password change ends the user's other sessions, and only the install's operator sees the
// brokers and opens or closes sign-up.
import { test, expect, screenshot, uniqueEmail, type Keygate } from './fixtures';
import {
  card,
  createClientViaApi,
  DEFAULT_KEY,
  gotoApp,
  PASSWORD,
  row,
  signUpViaApi,
  switchView,
  toast,
  unexpectedErrors,
} from './helpers';
import type { Page } from '@playwright/test';

/**
 * On the owner's Settings → Members, invites `email` as `role` through the form and returns the
 * one-time link it shows.
 */
async function inviteThroughForm(page: Page, consoleErrors: string[], email: string, role: string): Promise<string> {
  await gotoApp(page, '/settings/members', consoleErrors);
  const form = page.getByTestId('invite');
  await form.getByLabel('Email').fill(email);
  await form.getByTestId('invite-role').selectOption(role);
  await form.getByRole('button', { name: 'Create invitation link' }).click();
  const url = page.getByTestId('invite-url');
  await expect(url).toContainText('/invite/');
  return (await url.textContent())!.trim();
}

test('an invited viewer sees the owner’s clients, has no button that changes them, and the server refuses a forged change', async ({
  page,
  keygate,
  consoleErrors,
  newContextPage,
}) => {
  // The owner: an organization with one client.
  await signUpViaApi(page, 'Acme Devices');
  await createClientViaApi(page, { client_id: 'boiler-03', name: 'Boiler room sensor 3' });
  const viewerEmail = uniqueEmail('viewer');
  const link = await inviteThroughForm(page, consoleErrors, viewerEmail, 'viewer');
  expect(link.startsWith(`${keygate.url}/invite/`), link).toBe(true);
  // Once the open invitations are fetched again (the new one among them), the link is still shown.
  await expect(page.getByTestId('invitations').locator(`tr[data-invitation="${viewerEmail}"]`)).toContainText('Viewer');
  await expect(page.getByTestId('invitation-link')).toContainText(viewerEmail);
  await expect(page.getByTestId('invite-url')).toHaveText(link);
  await screenshot(page, 'members-invitation-link');

  // The invited person, in a browser of their own: no account yet, so the link asks for a password.
  const viewer = await newContextPage('viewer');
  await gotoApp(viewer, link, consoleErrors);
  await expect(viewer.getByRole('heading', { level: 1 })).toHaveText('Join Acme Devices');
  await expect(viewer.getByTestId('invitation-summary')).toContainText(`invites ${viewerEmail} as viewer`);
  await screenshot(viewer, 'invitation');
  await viewer.getByLabel('Password').fill(PASSWORD);
  await viewer.getByTestId('accept').click();
  await expect(viewer).toHaveURL(/\/clients$/);
  await expect(viewer.locator('header .email')).toHaveText(viewerEmail);
  await expect(viewer.getByTestId('role')).toHaveText('Viewer');

  // The owner's client is listed, read-only: no + New, no Edit or Delete, no status switch.
  await gotoApp(viewer, '/clients', consoleErrors);
  await expect(row(viewer, 'boiler-03')).toContainText('Boiler room sensor 3');
  await expect(viewer.getByTestId('read-only')).toBeVisible();
  await expect(viewer.getByTestId('new-client')).toHaveCount(0);
  await expect(row(viewer, 'boiler-03').getByTestId('status')).toHaveText('Active');
  for (const testid of ['edit', 'delete', 'active-switch']) {
    await expect(row(viewer, 'boiler-03').getByTestId(testid), testid).toHaveCount(0);
  }
  await expect(viewer.getByRole('dialog')).toHaveCount(0);
  // Nor on a card.
  await switchView(viewer, 'cards');
  await expect(card(viewer, 'boiler-03')).toBeVisible();
  for (const testid of ['edit', 'delete', 'active-switch']) {
    await expect(card(viewer, 'boiler-03').getByTestId(testid), testid).toHaveCount(0);
  }

  // Calls the page would never make, forged with the viewer's session: each is refused.
  const forged = {
    '/api/clients/delete': { client_id: 'boiler-03' },
    '/api/clients/set_active': { client_id: 'boiler-03', active: 'false' },
    '/api/clients/create': { client_id: 'viewer-made', key: DEFAULT_KEY, name: 'Not allowed', description: '' },
  };
  for (const [endpoint, form] of Object.entries(forged)) {
    const response = await viewer.request.post(endpoint, { form });
    expect(response.status(), `${endpoint} answered ${response.status()}: ${await response.text()}`).toBe(403);
  }
  // Nothing changed: the client is there and active, and no other client was made.
  await gotoApp(page, '/clients', consoleErrors);
  await expect(row(page, 'boiler-03').getByTestId('active-switch')).toBeChecked();
  await expect(row(page, 'viewer-made')).toHaveCount(0);
  await gotoApp(viewer, '/clients', consoleErrors);
  await expect(card(viewer, 'boiler-03')).toBeVisible();

  // The owner sees the new member with their role; the used invitation is no longer open.
  await gotoApp(page, '/settings/members', consoleErrors);
  const member = page.getByTestId('members').locator(`tr[data-member="${viewerEmail}"]`);
  await expect(member.getByTestId('member-role')).toHaveValue('viewer');
  await expect(page.locator(`tr[data-invitation="${viewerEmail}"]`)).toHaveCount(0);
  // And the link does not work a second time.
  const again = await newContextPage('again');
  await gotoApp(again, link, consoleErrors);
  await expect(again.getByText('This invitation was used already.')).toBeVisible();
  await expect(again.getByTestId('accept')).toHaveCount(0);

  // The refused calls answer with an HTTP error; nothing else may fail.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('revoking an invitation takes its link off the page, and the link is refused', async ({
  page,
  consoleErrors,
  newContextPage,
}) => {
  await signUpViaApi(page, 'Acme Devices');
  const email = uniqueEmail('admin');
  const link = await inviteThroughForm(page, consoleErrors, email, 'admin');
  const invitation = page.getByTestId('invitations').locator(`tr[data-invitation="${email}"]`);
  await expect(invitation).toContainText('Admin');
  await expect(page.getByTestId('invite-url')).toHaveText(link);

  await invitation.getByTestId('revoke-invitation').click();
  await expect(toast(page, 'Invitation revoked')).toBeVisible();
  await expect(invitation).toContainText('revoked');
  await expect(invitation.getByTestId('revoke-invitation')).toHaveCount(0);
  await expect(page.getByTestId('invitation-link')).toHaveCount(0);

  const invitee = await newContextPage('invitee');
  await gotoApp(invitee, link, consoleErrors);
  await expect(invitee.getByText('This invitation was revoked. Ask for a new one.')).toBeVisible();
  await expect(invitee.getByTestId('accept')).toHaveCount(0);

  expect(consoleErrors).toEqual([]);
});

/** Submits the sign-in form (on /signin, hydrated). */
async function signIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('changing the password ends the other session, keeps this one, and only the new password signs in', async ({
  page,
  consoleErrors,
  newContextPage,
}) => {
  const account = await signUpViaApi(page);
  // The same person on another device.
  const laptop = await newContextPage('laptop');
  const signedIn = await laptop.request.post('/api/account/sign_in', {
    form: { email: account.email, password: account.password },
  });
  expect(signedIn.ok(), `sign-in answered ${signedIn.status()}`).toBe(true);
  await gotoApp(laptop, '/clients', consoleErrors);
  await expect(laptop.locator('header .email')).toHaveText(account.email);

  // Both sessions are listed on the account page, this one marked.
  await gotoApp(page, '/settings/account', consoleErrors);
  const sessions = page.getByTestId('sessions').locator('tbody tr');
  await expect(sessions).toHaveCount(2);
  await expect(sessions.filter({ hasText: 'this browser' })).toHaveCount(1);
  await expect(page.getByTestId('account-email')).toHaveText(account.email);
  await screenshot(page, 'account');

  const newPassword = 'a different passphrase 42';
  const form = page.getByTestId('change-password');
  await form.locator('input[name=current]').fill(account.password);
  await form.locator('input[name=new_password]').fill(newPassword);
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(toast(page, 'Password changed')).toBeVisible();
  await expect(sessions).toHaveCount(1);

  // The other device's next page load finds its session gone.
  await laptop.goto('/clients');
  await expect(laptop).toHaveURL(/\/signin$/);
  // This one goes on.
  await gotoApp(page, '/clients', consoleErrors);
  await expect(page).toHaveURL(/\/clients$/);
  await expect(page.locator('header .email')).toHaveText(account.email);

  // The old password no longer signs in; the new one does.
  await gotoApp(laptop, '/signin', consoleErrors);
  await signIn(laptop, account.email, account.password);
  await expect(laptop.getByTestId('error-password')).toHaveText('Wrong email or password.');
  await expect(laptop).toHaveURL(/\/signin$/);
  await laptop.getByLabel('Password').fill(newPassword);
  await laptop.getByRole('button', { name: 'Sign in' }).click();
  await expect(laptop).toHaveURL(/\/clients$/);
  await expect(laptop.locator('header .email')).toHaveText(account.email);

  // The refused sign-in answers with an HTTP error; nothing else may fail.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

/** What a page must not show someone who does not operate the install: the embedded broker. */
function brokerDetails(keygate: Keygate): string[] {
  return ['embedded:keygate', 'node keygate', 'mqtt://', `127.0.0.1:${keygate.mqttPort}`];
}

test('only the operator sees the brokers and closes sign-up; another organization’s owner sees its revocations only', async ({
  page,
  keygate,
  consoleErrors,
  newContextPage,
}) => {
  // The first sign-up of the install operates it.
  const operator = await signUpViaApi(page, 'Acme Devices');
  await gotoApp(page, '/settings/brokers', consoleErrors);
  await expect(page.getByTestId('brokers-tab')).toHaveText('Brokers');
  const embedded = page.getByTestId('brokers').locator('tr[data-target="embedded:keygate"]');
  await expect(embedded).toContainText(`mqtt://127.0.0.1:${keygate.mqttPort}`);
  await expect(page.getByTestId('install')).toBeVisible();
  await expect(page.getByTestId('operators')).toContainText(operator.email);
  await expect(page.getByTestId('organization-revocations')).toHaveCount(0);

  // A second organization's owner (sign-up is open): the organization's revocations, nothing of
  // the brokers, in the page or in the data it was rendered with.
  const globex = await newContextPage('globex');
  await signUpViaApi(globex, 'Globex Sensors');
  await gotoApp(globex, '/settings/brokers', consoleErrors);
  await expect(globex.getByTestId('role')).toHaveText('Owner');
  await expect(globex.getByTestId('brokers-tab')).toHaveText('Revocations');
  await expect(globex.getByTestId('organization-revocations')).toBeVisible();
  await expect(globex.getByTestId('revocations-waiting')).toHaveText(
    'Every revocation of this organization has reached every broker.',
  );
  await expect(globex.getByTestId('brokers')).toHaveCount(0);
  await expect(globex.getByTestId('install')).toHaveCount(0);
  await expect(globex.getByTestId('toggle-signup')).toHaveCount(0);
  const shown = await globex.locator('body').innerText();
  const html = await globex.content();
  for (const detail of brokerDetails(keygate)) {
    expect(shown, `the page shows ${detail}`).not.toContain(detail);
    expect(html, `the page's HTML holds ${detail}`).not.toContain(detail);
  }
  await screenshot(globex, 'brokers-non-operator');
  // Nor does the server answer them when asked directly.
  for (const [endpoint, form] of Object.entries({
    '/api/brokers/status': {},
    '/api/install/settings': {},
    '/api/install/set_signup_open': { open: 'false' },
  })) {
    const response = await globex.request.post(endpoint, { form });
    expect(response.status(), `${endpoint} answered ${response.status()}`).toBe(403);
    const body = await response.text();
    for (const detail of brokerDetails(keygate)) expect(body, `${endpoint}'s answer`).not.toContain(detail);
  }

  // The operator closes sign-up: a newcomer's /signup refuses, in the page and on the server.
  const toggle = page.getByTestId('toggle-signup');
  await expect(toggle).toHaveText('Close sign-up');
  await toggle.click();
  await expect(toast(page, 'Sign-up closed')).toBeVisible();
  await expect(toggle).toHaveText('Open sign-up');
  const newcomer = await newContextPage('newcomer');
  await gotoApp(newcomer, '/signup', consoleErrors);
  await expect(newcomer.locator('.auth-card')).toContainText('Sign-up is closed on this Keygate.');
  await expect(newcomer.getByRole('button', { name: 'Create account' })).toHaveCount(0);
  const refused = await newcomer.request.post('/api/account/sign_up', {
    form: { email: uniqueEmail('late'), password: PASSWORD, organization: 'Initech' },
  });
  expect(refused.status()).toBe(403);

  // Opened again, the form is back.
  await toggle.click();
  await expect(toast(page, 'Sign-up opened')).toBeVisible();
  await expect(toggle).toHaveText('Close sign-up');
  await gotoApp(newcomer, '/signup', consoleErrors);
  await expect(newcomer.getByRole('button', { name: 'Create account' })).toBeVisible();

  // The forged and refused calls answer with HTTP errors; nothing else may fail.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
