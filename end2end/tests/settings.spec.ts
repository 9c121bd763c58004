// Settings: the organization id, the workspaces table and its form, and the header's workspace
// switcher.
import { test, expect } from './fixtures';
import {
  allowClipboard,
  createClientViaApi,
  createWorkspaceViaApi,
  gotoApp,
  readClipboard,
  row,
  signUpViaApi,
  switchWorkspaceViaApi,
  tableRows,
  toast,
  unexpectedErrors,
  type Workspace,
} from './helpers';
import type { Page } from '@playwright/test';

const BAD_NAMESPACE = "Use lowercase letters, digits and single '-' inside a namespace.";

/**
 * Signs up as Acme Devices with one client in its Default workspace (namespace acme-devices) and,
 * when asked, a second workspace Staging (acme-staging); opens `path` unless it is null. Returns the
 * organization id and Staging.
 */
async function acme(
  page: Page,
  consoleErrors: string[],
  { path = '/settings', staging = false }: { path?: string | null; staging?: boolean } = {},
): Promise<{ organizationId: string; staging?: Workspace }> {
  await signUpViaApi(page, 'Acme Devices');
  const created = await createClientViaApi(page, { client_id: 'first-ws-client', name: 'Lives in Default' });
  const workspace = staging ? await createWorkspaceViaApi(page, 'Staging', 'acme-staging') : undefined;
  if (path !== null) await gotoApp(page, path, consoleErrors);
  return { organizationId: created.connection.organization_id, staging: workspace };
}

test('Settings shows the organization id, and Copy puts it on the clipboard', async ({
  page,
  keygate,
  consoleErrors,
}) => {
  await allowClipboard(page, keygate.url);
  const { organizationId } = await acme(page, consoleErrors);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');

  const orgId = page.getByTestId('organization-id');
  await expect(orgId).toHaveText(organizationId);
  await page.getByTestId('copy-organization-id').click();
  await expect(page.getByTestId('copy-organization-id')).toHaveText('Copied');
  expect(await readClipboard(page)).toBe(organizationId);

  expect(consoleErrors).toEqual([]);
});

test('the Default workspace is listed as current, with its number of clients', async ({ page, consoleErrors }) => {
  await acme(page, consoleErrors);
  const workspaces = page.getByTestId('workspaces');
  await expect(workspaces.locator('tbody tr')).toHaveCount(1);
  const defaultRow = workspaces.locator('tr[data-workspace="acme-devices"]');
  await expect(defaultRow).toContainText('Default');
  await expect(defaultRow).toContainText('current');
  await expect(defaultRow.locator('td').nth(2)).toHaveText('1');

  expect(consoleErrors).toEqual([]);
});

test('a bad namespace is refused at the field, and no workspace is created', async ({ page, consoleErrors }) => {
  await acme(page, consoleErrors);
  const workspaces = page.getByTestId('workspaces');
  const form = page.getByTestId('new-workspace');
  await form.getByLabel('Name', { exact: true }).fill('Staging');
  await form.getByLabel('Namespace (optional)').fill('Bad NS');
  const namespaceError = form.getByTestId('error-namespace');
  await expect(namespaceError).toHaveText(BAD_NAMESPACE);

  const create = form.getByRole('button', { name: 'Create workspace' });
  const refused = page.waitForResponse((r) => r.url().includes('/api/workspaces/create'));
  await create.click();
  expect((await refused).ok()).toBe(false);
  await expect(create).toBeEnabled(); // busy until the answer is taken in
  await expect(namespaceError).toHaveText(BAD_NAMESPACE);
  await expect(workspaces.locator('tbody tr')).toHaveCount(1);
  // Not on the server either.
  await gotoApp(page, '/settings', consoleErrors);
  await expect(workspaces.locator('tbody tr')).toHaveCount(1);

  // The only failed request is the refused namespace.
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});

test('a created workspace is listed and offered by the switcher; the form is cleared', async ({
  page,
  consoleErrors,
}) => {
  await acme(page, consoleErrors);
  const workspaces = page.getByTestId('workspaces');
  const form = page.getByTestId('new-workspace');
  await form.getByLabel('Name', { exact: true }).fill('Staging');
  await form.getByLabel('Namespace (optional)').fill('acme-staging');
  await form.getByRole('button', { name: 'Create workspace' }).click();

  await expect(toast(page, 'Workspace Staging created with namespace acme-staging')).toBeVisible();
  const stagingRow = workspaces.locator('tr[data-workspace="acme-staging"]');
  await expect(stagingRow).toContainText('Staging');
  await expect(stagingRow.locator('td').nth(2)).toHaveText('0');
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(form.getByLabel('Namespace (optional)')).toHaveValue('');
  await expect(form.getByTestId('error-namespace')).toHaveText('');
  // The header's switcher offers it.
  const switcher = page.getByTestId('workspace-switcher');
  await expect(switcher.locator('option')).toHaveText(['Default (acme-devices)', 'Staging (acme-staging)']);

  expect(consoleErrors).toEqual([]);
});

test('switching workspace in the header shows that workspace’s clients, and the session remembers it', async ({
  page,
  consoleErrors,
}) => {
  await acme(page, consoleErrors, { staging: true });
  const switcher = page.getByTestId('workspace-switcher');

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
  await expect(switcher).toHaveValue((await switcher.locator('option', { hasText: 'Staging' }).getAttribute('value')) ?? '');

  expect(consoleErrors).toEqual([]);
});

test('a client lives in its own workspace: switching back to Default does not show Staging’s', async ({
  page,
  consoleErrors,
}) => {
  const { staging } = await acme(page, consoleErrors, { path: null, staging: true });
  // A client created in Staging lives there only.
  await switchWorkspaceViaApi(page, staging!.id);
  await createClientViaApi(page, { client_id: 'staging-client', name: 'Lives in Staging' });
  await gotoApp(page, '/clients', consoleErrors);
  await expect(page.getByTestId('namespace')).toHaveText('acme-staging');
  await expect(row(page, 'staging-client')).toBeVisible();

  // Back to Default: its client is back, Staging's is not shown.
  await page.getByTestId('workspace-switcher').selectOption({ label: 'Default (acme-devices)' });
  await expect(page.getByTestId('namespace')).toHaveText('acme-devices');
  await expect(row(page, 'first-ws-client')).toBeVisible();
  await expect(row(page, 'staging-client')).toHaveCount(0);
  await expect(tableRows(page)).toHaveCount(1);

  expect(consoleErrors).toEqual([]);
});

// A refused field's message goes as soon as the field is fixed, not at the next submit.
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
  const refused = page.waitForResponse((r) => r.url().includes('/api/workspaces/create'));
  await create.click();
  await expect(namespaceError).toHaveText(BAD_NAMESPACE);
  // Let the server's answer arrive and be taken in (the button is busy until then): its verdict
  // is what must go away.
  expect((await refused).ok()).toBe(false);
  await expect(create).toBeEnabled();
  await namespace.fill('acme-staging');
  await expect.soft(namespaceError, 'namespace error after typing a valid one').toHaveText('', { timeout: 2_000 });
  await expect.soft(namespace).toHaveAttribute('aria-invalid', 'false', { timeout: 2_000 });
  expect(unexpectedErrors(consoleErrors)).toEqual([]);
});
