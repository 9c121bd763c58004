import { test, expect } from './fixtures';
import { card, cards, createClientsViaApi, gotoApp, reloadApp, row, shownIds, signUpViaApi, tableRows, toast } from './helpers';

test('delete a client from the list and from a card, after confirming; Cancel keeps it', async ({
  page,
  consoleErrors,
}) => {
  await signUpViaApi(page);
  await createClientsViaApi(page, [
    { client_id: 'keep-me', name: 'Keeper' },
    { client_id: 'list-victim', name: 'Deleted from the list' },
    { client_id: 'card-victim', name: 'Deleted from a card' },
  ]);
  await gotoApp(page, '/clients', consoleErrors);
  await expect(tableRows(page)).toHaveCount(3);
  const modal = page.getByTestId('delete-client-modal');

  // List: Cancel first.
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

  // List: confirm.
  await expect(row(page, 'list-victim').getByTestId('delete')).toHaveText('DELETE');
  await row(page, 'list-victim').getByTestId('delete').click();
  await modal.getByTestId('confirm-delete').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'list-victim deleted')).toBeVisible();
  await expect(row(page, 'list-victim')).toHaveCount(0);
  await expect(tableRows(page)).toHaveCount(2);
  await expect(page.getByTestId('summary')).toHaveText('1–2 of 2 clients');

  // Card: Cancel, then confirm.
  await page.getByTestId('view-cards').click();
  await expect(cards(page)).toHaveCount(2);
  const cross = card(page, 'card-victim').getByTestId('delete');
  await expect(cross).toHaveText('×');
  await expect(cross).toHaveAccessibleName('Delete card-victim');
  await cross.click();
  await expect(modal).toHaveAccessibleName('Delete card-victim?');
  await modal.getByRole('button', { name: 'Cancel' }).click();
  await expect(modal).toBeHidden();
  await expect(cards(page)).toHaveCount(2);
  await card(page, 'card-victim').getByTestId('delete').click();
  await modal.getByTestId('confirm-delete').click();
  await expect(modal).toBeHidden();
  await expect(toast(page, 'card-victim deleted')).toBeVisible();
  await expect(card(page, 'card-victim')).toHaveCount(0);
  expect(await shownIds(cards(page))).toEqual(['keep-me']);

  // Gone on the server too.
  await reloadApp(page, consoleErrors);
  expect(await shownIds(cards(page))).toEqual(['keep-me']);
  await page.getByTestId('view-list').click();
  expect(await shownIds(tableRows(page))).toEqual(['keep-me']);

  // The last one: the page falls back to the empty state.
  await row(page, 'keep-me').getByTestId('delete').click();
  await modal.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('empty-state')).toBeVisible();

  await gotoApp(page, '/settings', consoleErrors);
  await expect(page.getByTestId('activity').locator('tr', { hasText: 'client.deleted' })).toHaveCount(3);

  expect(consoleErrors).toEqual([]);
});
