import { test, expect } from './fixtures';
import {
  allowClipboard,
  createClientViaApi,
  gotoApp,
  readClipboard,
  row,
  signUpViaApi,
  tableRows,
  toast,
  unexpectedErrors,
} from './helpers';

test('settings: copy the organization id, create a workspace and switch between workspaces', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await allowClipboard(page, keygate.url);
  await signUpViaApi(page, 'Acme Devices');
  const created = await createClientViaApi(page, { client_id: 'first-ws-client', name: 'Lives in Default' });
  const organizationId: string = created.connection.organization_id;

  await gotoApp(page, '/settings', consoleErrors);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');

  // The organization id, shown and copyable.
  const orgId = page.getByTestId('organization-id');
  await expect(orgId).toHaveText(organizationId);
  await page.getByTestId('copy-organization-id').click();
  await expect(page.getByTestId('copy-organization-id')).toHaveText('Copied');
  expect(await readClipboard(page)).toBe(organizationId);

  // The default workspace, with its one client.
  const workspaces = page.getByTestId('workspaces');
  await expect(workspaces.locator('tbody tr')).toHaveCount(1);
  const defaultRow = workspaces.locator('tr[data-workspace="acme-devices"]');
  await expect(defaultRow).toContainText('Default');
  await expect(defaultRow).toContainText('current');
  await expect(defaultRow.locator('td').nth(2)).toHaveText('1');

  // A bad namespace is refused at the field, nothing is created.
  const form = page.getByTestId('new-workspace');
  await form.getByLabel('Name', { exact: true }).fill('Staging');
  await form.getByLabel('Namespace (optional)').fill('Bad NS');
  const namespaceError = form.getByTestId('error-namespace');
  await expect(namespaceError).toHaveText("Use lowercase letters, digits and single '-' inside a namespace.");
  await form.getByRole('button', { name: 'Create workspace' }).click();
  await expect(namespaceError).toHaveText("Use lowercase letters, digits and single '-' inside a namespace.");
  await page.waitForTimeout(300);
  await expect(workspaces.locator('tbody tr')).toHaveCount(1);

  // A good one.
  await form.getByLabel('Namespace (optional)').fill('acme-staging');
  await form.getByRole('button', { name: 'Create workspace' }).click();
  await expect(toast(page, 'Workspace Staging created with namespace acme-staging')).toBeVisible();
  const stagingRow = workspaces.locator('tr[data-workspace="acme-staging"]');
  await expect(stagingRow).toContainText('Staging');
  await expect(stagingRow.locator('td').nth(2)).toHaveText('0');
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(form.getByLabel('Namespace (optional)')).toHaveValue('');
  await expect(namespaceError).toHaveText('');
  await expect(page.getByTestId('activity').locator('tr', { hasText: 'workspace.created' })).toHaveCount(1);
  await expect(page.getByTestId('activity').locator('tr', { hasText: 'client.created' })).toHaveCount(1);

  // The header's switcher offers it.
  const switcher = page.getByTestId('workspace-switcher');
  await expect(switcher.locator('option')).toHaveText(['Default (acme-devices)', 'Staging (acme-staging)']);

  // Go to Clients (in-app navigation), then switch to Staging there: an empty workspace.
  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  await expect(page).toHaveURL(/\/clients$/);
  await expect(row(page, 'first-ws-client')).toBeVisible();
  await expect(page.getByTestId('namespace')).toHaveText('acme-devices');

  await switcher.selectOption({ label: 'Staging (acme-staging)' });
  await expect(toast(page, 'Switched workspace')).toBeVisible();
  await expect(page.getByTestId('namespace')).toHaveText('acme-staging');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(tableRows(page)).toHaveCount(0);
  // The switch is remembered by the session.
  await gotoApp(page, '/clients', consoleErrors);
  await expect(page.getByTestId('namespace')).toHaveText('acme-staging');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await expect(switcher).toHaveValue(await switcher.locator('option', { hasText: 'Staging' }).getAttribute('value') ?? '');

  // A client created here lives here only.
  await createClientViaApi(page, { client_id: 'staging-client', name: 'Lives in Staging' });

  // Back to Default: its client is back, Staging's is not shown.
  await switcher.selectOption({ label: 'Default (acme-devices)' });
  await expect(page.getByTestId('namespace')).toHaveText('acme-devices');
  await expect(row(page, 'first-ws-client')).toBeVisible();
  await expect(row(page, 'staging-client')).toHaveCount(0);
  await expect(tableRows(page)).toHaveCount(1);

  // The only failed request is the refused namespace.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

// Regression test: the form used to keep a refused field's message until the next submit.
test('a refused workspace field’s message goes away once the field is fixed', async ({ page, consoleErrors }) => {
  await signUpViaApi(page);
  await gotoApp(page, '/settings', consoleErrors);
  const form = page.getByTestId('new-workspace');
  const name = form.getByLabel('Name', { exact: true });
  const namespace = form.getByLabel('Namespace (optional)');
  const nameError = form.getByTestId('error-workspace_name');
  const namespaceError = form.getByTestId('error-namespace');
  const create = form.getByRole('button', { name: 'Create workspace' });

  await create.click();
  await expect(nameError).toHaveText('Enter a workspace name.');
  await name.fill('Staging');
  await expect.soft(nameError, 'name error after typing a name').toHaveText('', { timeout: 2_000 });

  await namespace.fill('Bad NS');
  await create.click();
  await expect(namespaceError).toHaveText("Use lowercase letters, digits and single '-' inside a namespace.");
  await page.waitForTimeout(500); // let the server's answer arrive
  await namespace.fill('acme-staging');
  await expect.soft(namespaceError, 'namespace error after typing a valid one').toHaveText('', { timeout: 2_000 });
  await expect.soft(namespace).toHaveAttribute('aria-invalid', 'false', { timeout: 2_000 });
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
