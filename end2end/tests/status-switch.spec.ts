// The active/inactive switch of a client: in the list, on a card, in the Edit modal, and when its
// answer arrives after the view that sent the request is gone.
import { test, expect } from './fixtures';
import { card, createClientsViaApi, gotoApp, reloadApp, row, signUpViaApi, toast } from './helpers';
import type { Page } from '@playwright/test';

async function twoClients(page: Page, consoleErrors: string[]) {
  await signUpViaApi(page);
  await createClientsViaApi(page, [
    { client_id: 'switch-a', name: 'Switch A' },
    { client_id: 'switch-b', name: 'Switch B' },
  ]);
  await gotoApp(page, '/clients', consoleErrors);
}

test('the switch in the list deactivates and activates a client, and the state survives a reload', async ({
  page,
  consoleErrors,
}) => {
  await twoClients(page, consoleErrors);
  const listSwitch = row(page, 'switch-a').getByTestId('active-switch');
  await expect(listSwitch).toBeEnabled();
  await expect(listSwitch).toBeChecked();
  await expect(listSwitch).toHaveAttribute('role', 'switch');
  await expect(row(page, 'switch-a')).not.toHaveClass(/\binactive\b/);

  await listSwitch.click();
  await expect(toast(page, 'switch-a deactivated')).toBeVisible();
  await expect(row(page, 'switch-a')).toHaveClass(/\binactive\b/);
  await expect(row(page, 'switch-a').getByTestId('active-switch')).not.toBeChecked();
  await expect(row(page, 'switch-b')).not.toHaveClass(/\binactive\b/);

  await reloadApp(page, consoleErrors);
  await expect(row(page, 'switch-a')).toHaveClass(/\binactive\b/);
  await expect(row(page, 'switch-a').getByTestId('active-switch')).not.toBeChecked();
  await row(page, 'switch-a').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-a activated')).toBeVisible();
  await expect(row(page, 'switch-a')).not.toHaveClass(/\binactive\b/);
  await expect(row(page, 'switch-a').getByTestId('active-switch')).toBeChecked();

  expect(consoleErrors).toEqual([]);
});

test('the switch on a card changes only its own client', async ({ page, consoleErrors }) => {
  await twoClients(page, consoleErrors);
  await page.getByTestId('view-cards').click();
  const cardSwitch = card(page, 'switch-b').getByTestId('active-switch');
  await expect(cardSwitch).toBeEnabled();
  await expect(cardSwitch).toBeChecked();

  await cardSwitch.click();
  await expect(toast(page, 'switch-b deactivated')).toBeVisible();
  await expect(card(page, 'switch-b')).toHaveClass(/\binactive\b/);
  await expect(card(page, 'switch-b').getByTestId('active-switch')).not.toBeChecked();
  await expect(card(page, 'switch-a')).not.toHaveClass(/\binactive\b/);

  await card(page, 'switch-b').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-b activated')).toBeVisible();
  await expect(card(page, 'switch-b')).not.toHaveClass(/\binactive\b/);

  expect(consoleErrors).toEqual([]);
});

test('the switch in the Edit modal changes the client and the list behind the modal follows', async ({
  page,
  consoleErrors,
}) => {
  await twoClients(page, consoleErrors);
  await row(page, 'switch-a').getByTestId('edit').click();
  const modal = page.getByTestId('edit-client-modal');
  const modalSwitch = modal.getByTestId('active-switch');
  await expect(modalSwitch).toBeEnabled();
  await expect(modalSwitch).toBeChecked();

  await modalSwitch.click();
  await expect(toast(page, 'switch-a deactivated')).toBeVisible();
  await expect(modalSwitch).not.toBeChecked();
  await expect(modal.getByText('Inactive', { exact: true })).toBeVisible();
  await expect(row(page, 'switch-a')).toHaveClass(/\binactive\b/);
  await page.keyboard.press('Escape');
  await expect(modal).toBeHidden();
  await expect(row(page, 'switch-a')).toHaveClass(/\binactive\b/);

  await row(page, 'switch-a').getByTestId('edit').click();
  await expect(modalSwitch).not.toBeChecked();
  await modalSwitch.click();
  await expect(toast(page, 'switch-a activated')).toBeVisible();
  await expect(modalSwitch).toBeChecked();
  await page.keyboard.press('Escape');
  await expect(row(page, 'switch-a')).not.toHaveClass(/\binactive\b/);

  expect(consoleErrors).toEqual([]);
});

test('every change made with a switch is in the audit log', async ({ page, consoleErrors }) => {
  await twoClients(page, consoleErrors);
  await row(page, 'switch-a').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-a deactivated')).toBeVisible();
  await expect(row(page, 'switch-a').getByTestId('active-switch')).toBeEnabled();
  await row(page, 'switch-a').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-a activated')).toBeVisible();
  await expect(row(page, 'switch-a').getByTestId('active-switch')).toBeEnabled();
  await row(page, 'switch-b').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-b deactivated')).toBeVisible();

  await gotoApp(page, '/settings/activity', consoleErrors);
  const activity = page.getByTestId('activity');
  await expect(activity.locator('tr', { hasText: 'client.deactivated' })).toHaveCount(2);
  await expect(activity.locator('tr', { hasText: 'client.activated' })).toHaveCount(1);

  expect(consoleErrors).toEqual([]);
});

// The list re-renders every row when it refetches, disposing the switches it drew. A switch whose
// answer arrives after that must still tell the page (toast, refetch) and must not touch what is
// gone: reading a disposed value panics in WASM and leaves the page dead until a reload.
test('a switch answer that arrives after the list re-rendered still reaches the page', async ({
  page,
  consoleErrors,
}) => {
  await twoClients(page, consoleErrors);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let heldSeen: () => void = () => undefined;
  const heldArrived = new Promise<void>((resolve) => (heldSeen = resolve));
  await page.route('**/api/clients/set_active', async (route) => {
    if ((route.request().postData() ?? '').includes('switch-b')) {
      heldSeen();
      await held;
    }
    await route.continue();
  });

  // B's request waits in the browser while A's change makes the list refetch and re-render.
  await row(page, 'switch-b').getByTestId('active-switch').click();
  await heldArrived;
  const refetched = page.waitForResponse((r) => r.url().includes('/api/clients/list') && r.ok());
  await row(page, 'switch-a').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-a deactivated')).toBeVisible();
  await refetched;
  await expect(row(page, 'switch-a')).toHaveClass(/\binactive\b/);
  // The refetch ran before B's change: B is still shown active, by a new switch.
  await expect(row(page, 'switch-b')).not.toHaveClass(/\binactive\b/);

  release();
  await expect(toast(page, 'switch-b deactivated')).toBeVisible();
  await expect(row(page, 'switch-b')).toHaveClass(/\binactive\b/);
  await expect(row(page, 'switch-b').getByTestId('active-switch')).not.toBeChecked();
  await expect(row(page, 'switch-b').getByTestId('active-switch')).toBeEnabled();

  // The page still works: the next click goes through.
  await row(page, 'switch-a').getByTestId('active-switch').click();
  await expect(toast(page, 'switch-a activated')).toBeVisible();
  await expect(row(page, 'switch-a')).not.toHaveClass(/\binactive\b/);

  expect(consoleErrors).toEqual([]);
});
