import { defineConfig } from '@playwright/test';

// Browser tests run Debian's chromium (`apt-get install chromium`), never a downloaded browser:
// `npx playwright install` needs the internet and fails on our machines.
// Each test starts its own `keygate` (see tests/fixtures.ts), so there is no `webServer` here.
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  // Two cores: one browser per core at most; keygate and argon2 need the rest.
  workers: 2,
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI
    ? [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]]
    : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    viewport: { width: 1280, height: 800 },
    actionTimeout: 10_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
