// Deleting a client: from the list and from a card, only after confirming; the last one leaves the
// empty state; every delete is in the audit log.
import { test, expect } from './fixtures';
import {
  card,
  cards,
  createClientsViaApi,
  gotoApp,
  reloadApp,
  row,
  shownIds,
  signUpViaApi,
  switchView,
  tableRows,
  toast,
  type NewClient,
} from './helpers';
import type { Page } from '@playwright/test';

const THREE: NewClient[] = [
  { client_id: 'keep-me', name: 'Keeper' },
  { client_id: 'list-victim', name: 'Deleted from the list' },
  { client_id: 'card-victim', name: 'Deleted from a card' },
];

/** Signs up, creates `clients` and opens the Clients page in the list view. */
async function clientsPage(page: Page, consoleErrors: string[], clients: NewClient[] = THREE) {
  await signUpViaApi(page);
  await createClientsViaApi(page, clients);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(tableRows(page)).toHaveCount(clients.length);
}

/** Opens the delete dialog of a client in the list and confirms it. */
async function deleteFromList(page: Page, clientId: string) {
  const modal = page.getByTestId('delete-client-modal');
  await row(page, clientId).getByTestId('delete').click();
  await modal.getByTestId('confirm-delete').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, `${clientId} deleted`)).toBeVisible();
}

test('Cancel or Esc in the delete dialog keeps the client, in the list and on a card', async ({
  page,
  consoleErrors,
}) => {
  await clientsPage(page, consoleErrors);
  const modal = page.getByTestId('delete-client-modal');

  // List: Cancel.
  await row(page, 'list-victim').getByTestId('delete').click();
  await expect(modal).toBeVisible();
  await expect(modal).toHaveAccessibleName('Delete list-victim?');
  await expect(modal).toContainText('Deleted from the list');
  await modal.getByRole('button', { name: 'Cancel' }).click();
  await expect(modal).toBeHidden();
  await expect(tableRows(page)).toHaveCount(3);
  // Esc cancels too.
  await row(page, 'list-victim').getByTestId('delete').click();
  await expect(modal).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await expect(row(page, 'list-victim')).toBeVisible();

  // Card: Cancel.
  await switchView(page, 'cards');
  await expect(cards(page)).toHaveCount(3);
  await card(page, 'card-victim').getByTestId('delete').click();
  await expect(modal).toHaveAccessibleName('Delete card-victim?');
  await modal.getByRole('button', { name: 'Cancel' }).click();
  await expect(modal).toBeHidden();
  await expect(cards(page)).toHaveCount(3);

  // Nothing was deleted on the server either.
  await reloadApp(page, consoleErrors);
  await expect(cards(page)).toHaveCount(3);

  expect(consoleErrors).toEqual([]);
});

test('confirming a delete in the list removes the client, also on the server', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  const modal = page.getByTestId('delete-client-modal');

  await expect(row(page, 'list-victim').getByTestId('delete')).toHaveText('DELETE');
  await row(page, 'list-victim').getByTestId('delete').click();
  await modal.getByTestId('confirm-delete').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'list-victim deleted')).toBeVisible();
  await expect(row(page, 'list-victim')).toHaveCount(0);
  await expect(tableRows(page)).toHaveCount(2);
  await expect(page.getByTestId('summary')).toHaveText('1–2 of 2 clients');

  // Gone on the server too.
  await reloadApp(page, consoleErrors);
  await expect(tableRows(page)).toHaveCount(2);
  expect((await shownIds(tableRows(page))).sort()).toEqual(['card-victim', 'keep-me']);

  expect(consoleErrors).toEqual([]);
});

test('confirming a delete on a card (×) removes the client, also on the server', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  const modal = page.getByTestId('delete-client-modal');
  await switchView(page, 'cards');
  await expect(cards(page)).toHaveCount(3);

  const cross = card(page, 'card-victim').getByTestId('delete');
  await expect(cross).toHaveText('×');
  await expect(cross).toHaveAccessibleName('Delete card-victim');
  await cross.click();
  await expect(modal).toHaveAccessibleName('Delete card-victim?');
  await modal.getByTestId('confirm-delete').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'card-victim deleted')).toBeVisible();
  await expect(card(page, 'card-victim')).toHaveCount(0);
  expect((await shownIds(cards(page))).sort()).toEqual(['keep-me', 'list-victim']);

  // Gone on the server too, in both views.
  await reloadApp(page, consoleErrors);
  await expect(cards(page)).toHaveCount(2);
  expect((await shownIds(cards(page))).sort()).toEqual(['keep-me', 'list-victim']);
  await switchView(page, 'list');
  await expect(tableRows(page)).toHaveCount(2);
  expect((await shownIds(tableRows(page))).sort()).toEqual(['keep-me', 'list-victim']);

  expect(consoleErrors).toEqual([]);
});

test('deleting the last client shows the empty state', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors, THREE.slice(0, 1));
  await deleteFromList(page, 'keep-me');
  await expect(page.getByTestId('empty-state')).toBeVisible();

  expect(consoleErrors).toEqual([]);
});

test('every delete is in the audit log', async ({ page, consoleErrors }) => {
  await clientsPage(page, consoleErrors);
  for (const { client_id } of THREE) await deleteFromList(page, client_id);
  await expect(page.getByTestId('empty-state')).toBeVisible();

  await gotoApp(page, '/settings/activity', consoleErrors);
  await expect(page.getByTestId('activity').locator('tr', { hasText: 'client.deleted' })).toHaveCount(3);

  expect(consoleErrors).toEqual([]);
});
