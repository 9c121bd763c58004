// Settings → API tokens in the browser: a token made with a name, a scope, a workspace and an
// expiry is shown once (`kgt_…`), then listed with its scope, workspace, expiry and last use,
// never the token again; Revoke asks first and the token is listed as revoked. A viewer reads the
// list without the form or Revoke, and the server refuses their forged create.
import { test, expect } from './fixtures';
import { createWorkspaceViaApi, gotoApp, PASSWORD, signUpViaApi, unexpectedErrors } from './helpers';

test('a token is created with its scope, workspace and expiry, shown once, listed, and revoked', async ({
  page,
  consoleErrors,
}) => {
  await signUpViaApi(page, 'Token Labs');
  await createWorkspaceViaApi(page, 'Staging', 'token-labs-staging');
  await gotoApp(page, '/settings/api-tokens', consoleErrors);
  const form = page.getByTestId('new-api-token');
  await form.getByLabel('Name').fill('ci-deploy');
  await form.getByTestId('token-scope').selectOption('manage_clients');
  await form.getByTestId('token-workspace').selectOption({ label: 'Staging' });
  await form.getByTestId('token-lifetime').selectOption('30');
  await form.getByRole('button', { name: 'Create token' }).click();

  const revealed = page.getByTestId('api-token-revealed');
  await expect(revealed).toContainText('shown only now');
  const token = (await revealed.getByTestId('api-token').innerText()).trim();
  expect(token).toMatch(/^kgt_[1-9A-HJ-NP-Za-km-z]+$/);

  const listed = page.getByTestId('api-tokens').locator('tr[data-api-token="ci-deploy"]');
  await expect(listed).toContainText('Manage clients');
  await expect(listed).toContainText('Staging');
  await expect(listed.locator('td').nth(5)).toHaveText('never');
  await expect(listed.locator('td').nth(4)).not.toHaveText('never');

  // Shown once: after a reload the token is nowhere on the page.
  await gotoApp(page, '/settings/api-tokens', consoleErrors);
  await expect(page.getByTestId('api-token-revealed')).toHaveCount(0);
  expect(await page.content()).not.toContain(token);

  await listed.getByTestId('revoke-token').click();
  await listed.getByTestId('confirm-revoke-token').click();
  await expect(listed.locator('td').nth(4)).toHaveText('revoked');
  await expect(listed.getByTestId('revoke-token')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a viewer reads the token list but cannot create or revoke', async ({ page, consoleErrors, newContextPage }) => {
  await signUpViaApi(page, 'Token Labs');
  const made = await page.request.post('/api/api_tokens/create', {
    form: { name: 'nightly', scope: 'read', workspace_id: '', lifetime: '90' },
  });
  expect(made.ok(), await made.text()).toBeTruthy();
  const email = `viewer-${Date.now()}@example.com`;
  const invited = await page.request.post('/api/members/invite', { form: { email, role: 'viewer' } });
  expect(invited.ok(), await invited.text()).toBeTruthy();
  const invitation = ((await invited.json()) as { path: string }).path.replace('/invite/', '');
  const viewer = await newContextPage('viewer');
  const accepted = await viewer.request.post('/api/members/accept', { form: { token: invitation, password: PASSWORD } });
  expect(accepted.ok(), await accepted.text()).toBeTruthy();

  await gotoApp(viewer, '/settings/api-tokens', consoleErrors);
  const listed = viewer.getByTestId('api-tokens').locator('tr[data-api-token="nightly"]');
  await expect(listed).toContainText('Read-only');
  await expect(listed.getByTestId('revoke-token')).toHaveCount(0);
  await expect(viewer.getByTestId('new-api-token')).toHaveCount(0);
  const forged = await viewer.request.post('/api/api_tokens/create', {
    form: { name: 'sneaky', scope: 'manage_clients', workspace_id: '', lifetime: '30' },
  });
  expect(forged.status()).toBe(403);
  await gotoApp(page, '/settings/api-tokens', consoleErrors);
  await expect(page.getByTestId('api-tokens').locator('tr[data-api-token="sneaky"]')).toHaveCount(0);
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
