import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTinyWorld, type TinyWorld } from './__fixtures__/tiny-world';
import { type StartedServer, startServer } from './index';

// The system's chromium, never a downloaded one: the machine (and CI) is offline. CI installs it from Debian.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENSHOT_DIRECTORY = join(dirname(fileURLToPath(import.meta.url)), '../../../.test-results/browser');
const COLLECTION = 'shop';
const TOKEN = 'browser-test-token';
/** The web page's catalog page size (PAGE_SIZE in web/app.js). */
const PAGE = 24;

if (!hasChromium) {
  console.warn(`browser.test.ts skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
}

async function startWithCollection(
  world: TinyWorld,
  options: { token?: string } = {},
): Promise<StartedServer> {
  const dataDir = await mkdtemp(join(world.root, 'data-'));
  const server = await startServer({
    dataDir,
    provider: world.provider,
    port: 0,
    handleSignals: false,
    ...options,
  });
  const headers = {
    'content-type': 'application/json',
    ...(options.token && { authorization: `Bearer ${options.token}` }),
  };
  const created = await fetch(`${server.url}/v1/collections`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name: COLLECTION, catalog: world.catalog }),
  });
  expect(created.status, await created.text()).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${server.url}/v1/collections`, { headers });
    const { collections } = (await response.json()) as {
      collections: { name: string; status: string; error?: string }[];
    };
    const collection = collections.find((candidate) => candidate.name === COLLECTION);
    if (collection?.status === 'ready') return server;
    if (collection?.status === 'failed') throw new Error(`collection build failed: ${collection.error}`);
    if (Date.now() > deadline) throw new Error('collection still not ready after 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const testId = (page: Page, id: string) => page.getByTestId(id);

/** Makes the page see the server's `GET /v1/collections` list as `rewrite` changes it. */
function rewriteCollections(
  page: Page,
  rewrite: (collections: Record<string, unknown>[]) => Record<string, unknown>[],
): Promise<unknown> {
  return page.route('**/v1/collections', async (route) => {
    const response = await route.fetch();
    const { collections } = (await response.json()) as { collections: Record<string, unknown>[] };
    await route.fulfill({ response, json: { collections: rewrite(collections) } });
  });
}

describe.skipIf(!hasChromium)(
  hasChromium ? 'the web page in chromium' : `the web page in chromium (skipped: ${CHROMIUM} is missing)`,
  () => {
    let world: TinyWorld;
    let server: StartedServer;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    beforeAll(async () => {
      [world, browser] = await Promise.all([
        createTinyWorld(),
        chromium.launch({
          executablePath: CHROMIUM,
          headless: true,
          args: ['--no-sandbox'],
          timeout: 60_000,
        }),
      ]);
      server = await startWithCollection(world);
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(20_000);
      page.on('pageerror', (error) => pageErrors.push(error.message));
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await world?.dispose();
    });

    it('shows the catalog of the first ready collection, says what is missing when searching too early, finds products by words', async () => {
      await page.goto(`${server.url}/`);
      await expect.poll(() => testId(page, 'catalog-item').count()).toBe(24);
      expect(await testId(page, 'catalog-range').textContent()).toBe('1–24 of 210');
      expect(page.url()).toContain(`collection=${COLLECTION}`);
      const firstImage = testId(page, 'catalog-item').first().locator('img');
      expect(await firstImage.getAttribute('alt')).toBeTruthy();
      await expect
        .poll(() => firstImage.evaluate((image) => (image as { naturalWidth: number }).naturalWidth))
        .toBe(32);

      await testId(page, 'modification-input').fill('like this one, but red');
      await testId(page, 'search-button').click();
      await expect.poll(() => testId(page, 'status').textContent()).toMatch(/pick a reference first/);
      expect(await testId(page, 'status').getAttribute('role')).toBe('status');
      expect(await testId(page, 'result-item').count()).toBe(0);

      await testId(page, 'catalog-next').click();
      await expect.poll(() => testId(page, 'catalog-range').textContent()).toBe('25–48 of 210');
      await testId(page, 'catalog-previous').click();
      await expect.poll(() => testId(page, 'catalog-range').textContent()).toBe('1–24 of 210');

      // Finding a product by the words of its description: the catalog shows what they find, paged from 1.
      const category = (await testId(page, 'catalog-item').first().getAttribute('data-id'))!.split('-')[0]!;
      const found = (await (
        await fetch(`${server.url}/v1/collections/${COLLECTION}/items?q=${category}&limit=${PAGE}`)
      ).json()) as { total: number; items: { id: string }[] };
      expect(found.total).toBeGreaterThan(0);
      expect(found.total).toBeLessThan(210);
      await testId(page, 'catalog-filter').fill(category);
      await expect
        .poll(() => testId(page, 'catalog-range').textContent())
        .toBe(`1–${Math.min(PAGE, found.total)} of ${found.total}`);
      expect(
        await testId(page, 'catalog-item').evaluateAll((items) =>
          items.map((item) => item.getAttribute('data-id')),
        ),
      ).toEqual(found.items.map((item) => item.id));
      expect(await testId(page, 'status').textContent()).toBe(
        `Collection "${COLLECTION}": ${found.total} products match “${category}”.`,
      );
      // Nothing but punctuation is no filter.
      await testId(page, 'catalog-filter').fill('€ -');
      await expect.poll(() => testId(page, 'catalog-range').textContent()).toBe('1–24 of 210');
      await testId(page, 'catalog-filter').fill('no such product');
      await expect
        .poll(() => testId(page, 'catalog-range').textContent())
        .toBe('no product matches “no such product”');
      expect(await testId(page, 'catalog-item').count()).toBe(0);
      await testId(page, 'catalog-filter').fill('');
      await expect.poll(() => testId(page, 'catalog-range').textContent()).toBe('1–24 of 210');
    });

    it('runs three turns (the first by keyboard; a clicked result as a reference; a return to the first item), rolls back to turn 1', async () => {
      const reference = testId(page, 'catalog-item').nth(3);
      const referenceId = await reference.getAttribute('data-id');
      await testId(page, 'modification-input').fill('');
      // Keyboard only: a catalog tile is a button, and picking it moves the focus to the text box; Enter submits.
      await reference.focus();
      await page.keyboard.press('Enter');
      expect(await reference.getAttribute('aria-pressed')).toBe('true');
      await page.keyboard.type('like this one, but red');
      await page.keyboard.press('Enter');
      await expect.poll(() => testId(page, 'result-item').count()).toBe(12);
      await expect.poll(() => testId(page, 'history-turn').count()).toBe(1);
      expect(await testId(page, 'status').textContent()).toBe('Turn 1: 12 results.');
      // The busy indicator goes away with the last request.
      await expect.poll(() => testId(page, 'busy').isHidden()).toBe(true);
      const firstTurnIds = await testId(page, 'result-item').evaluateAll((items) =>
        items.map((item) => item.getAttribute('data-id')),
      );
      expect(await testId(page, 'result-score').first().textContent()).toMatch(/^#1 · -?\d+\.\d{3}$/);
      expect(await testId(page, 'history-turn').first().locator('img').getAttribute('alt')).toBeTruthy();
      expect(await testId(page, 'history-turn').first().locator('q').textContent()).toBe(
        'like this one, but red',
      );
      expect(await testId(page, 'history-turn').first().locator('img').getAttribute('src')).toContain(
        encodeURIComponent(referenceId!),
      );

      const picked = testId(page, 'result-item').nth(2);
      const pickedId = await picked.getAttribute('data-id');
      await picked.click();
      expect(await picked.getAttribute('aria-pressed')).toBe('true');
      expect(await testId(page, 'result-item').first().getAttribute('aria-pressed')).toBe('false');
      expect(await testId(page, 'reference').locator('img').getAttribute('alt')).toBeTruthy();

      await testId(page, 'modification-input').fill('and with long sleeves');
      await testId(page, 'search-button').click();
      await expect.poll(() => testId(page, 'history-turn').count()).toBe(2);
      await expect.poll(() => testId(page, 'status').textContent()).toBe('Turn 2: 12 results.');
      // The page's session, read back through the API: the clicked result was turn 2's reference.
      const sessionId = await testId(page, 'history-list').getAttribute('data-session');
      const response = await fetch(`${server.url}/v1/sessions/${sessionId}`);
      const session = (await response.json()) as { turns: { referenceId: string }[] };
      expect(session.turns.map((turn) => turn.referenceId)).toEqual([referenceId, pickedId]);

      // A text that returns to an earlier item: turn 3 starts from turn 1's reference, and the page says so.
      await testId(page, 'modification-input').fill('go back to the first one, in blue');
      await testId(page, 'search-button').click();
      await expect.poll(() => testId(page, 'history-turn').count()).toBe(3);
      await expect
        .poll(() => testId(page, 'status').textContent())
        .toMatch(/^Turn 3, back to .+: 12 results\.$/);
      const third = testId(page, 'history-turn').nth(2);
      expect(await third.getByTestId('returned-to').textContent()).toContain('back to');
      expect(await third.locator('img').getAttribute('src')).toContain(encodeURIComponent(referenceId!));

      await mkdir(SCREENSHOT_DIRECTORY, { recursive: true });
      const screenshot = join(SCREENSHOT_DIRECTORY, 'three-turn-session.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(existsSync(screenshot)).toBe(true);

      // The latest turn cannot be rolled back to; the first one can.
      expect(await testId(page, 'rollback-button').nth(2).isDisabled()).toBe(true);
      await testId(page, 'rollback-button').first().click();
      await expect.poll(() => testId(page, 'history-turn').count()).toBe(1);
      await expect.poll(() => testId(page, 'status').textContent()).toBe('Rolled back to turn 1.');
      const shownIds = await testId(page, 'result-item').evaluateAll((items) =>
        items.map((item) => item.getAttribute('data-id')),
      );
      expect(shownIds).toEqual(firstTurnIds);

      // A server-side error reaches the status line: the session is gone (as after its idle timeout).
      await fetch(`${server.url}/v1/sessions/${sessionId}`, { method: 'DELETE' });
      await testId(page, 'modification-input').fill('in blue');
      await testId(page, 'search-button').click();
      await expect.poll(() => testId(page, 'status').textContent()).toMatch(/does not exist.*new session/);
      expect(await testId(page, 'status').getAttribute('data-kind')).toBe('error');
      expect(await testId(page, 'history-turn').count()).toBe(0);

      await testId(page, 'catalog-item').first().click();
      await testId(page, 'search-button').click();
      await expect.poll(() => testId(page, 'history-turn').count()).toBe(1);
      await testId(page, 'new-session-button').click();
      await expect.poll(() => testId(page, 'history-turn').count()).toBe(0);
      expect(await testId(page, 'result-item').count()).toBe(0);
      expect(pageErrors).toEqual([]);
    });

    it("fits a phone's width: one column, no sideways scrolling, the results scrolled into sight", async () => {
      const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
      try {
        phone.setDefaultTimeout(20_000);
        const overflow = () =>
          phone.evaluate<number>(
            'document.documentElement.scrollWidth - document.documentElement.clientWidth',
          );
        await phone.goto(`${server.url}/`);
        await expect.poll(() => testId(phone, 'catalog-item').count()).toBe(PAGE);
        expect(await overflow()).toBe(0);
        await testId(phone, 'catalog-item').nth(1).click();
        await testId(phone, 'modification-input').fill('is red');
        await testId(phone, 'search-button').click();
        await expect.poll(() => testId(phone, 'history-turn').count()).toBe(1);
        expect(await overflow()).toBe(0);
        // The results, stacked under the catalog, were scrolled into sight.
        const firstResult = (await testId(phone, 'result-item').first().boundingBox())!;
        expect(firstResult.y).toBeGreaterThanOrEqual(0);
        expect(firstResult.y + firstResult.height).toBeLessThanOrEqual(844);
        const [catalog, search] = await Promise.all(
          ['catalog-grid', 'search-form'].map((id) => testId(phone, id).boundingBox()),
        );
        expect(search!.y).toBeGreaterThan(catalog!.y + catalog!.height);
      } finally {
        await phone.close();
      }
    });

    it('keeps what the shopper did while a turn ran: a product picked meanwhile, a new session started meanwhile', async () => {
      const slow = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        slow.setDefaultTimeout(20_000);
        // Every turn answers 800 ms late: time to click while it runs.
        await slow.route('**/turns', async (route) => {
          await new Promise((resolve) => setTimeout(resolve, 800));
          await route.continue();
        });
        await slow.goto(`${server.url}/?collection=${COLLECTION}`);
        await expect.poll(() => testId(slow, 'catalog-item').count()).toBe(PAGE);
        await testId(slow, 'catalog-item').nth(1).click();
        await testId(slow, 'modification-input').fill('is red');
        await testId(slow, 'search-button').click();
        const picked = testId(slow, 'catalog-item').nth(5);
        const pickedCaption = await picked.getAttribute('title');
        await picked.click();
        await expect.poll(() => testId(slow, 'history-turn').count()).toBe(1);
        expect(await testId(slow, 'reference').textContent()).toContain(pickedCaption);
        expect(await picked.getAttribute('aria-pressed')).toBe('true');

        await testId(slow, 'modification-input').fill('in blue');
        await testId(slow, 'search-button').click();
        await testId(slow, 'new-session-button').click();
        await expect.poll(() => testId(slow, 'busy').isHidden()).toBe(true);
        expect(await testId(slow, 'history-turn').count()).toBe(0);
        expect(await testId(slow, 'result-item').count()).toBe(0);
      } finally {
        await slow.close();
      }
    });

    it('shows the catalog of a collection whose rebuild is running (it still serves), and waits for a first build', async () => {
      const second = await browser.newPage();
      try {
        second.setDefaultTimeout(20_000);
        // The server's list, as it reads during a rebuild (with builtAt) and during a first build (without).
        let builtAt: boolean = true;
        await rewriteCollections(second, (collections) =>
          collections.map(({ builtAt: built, ...record }) => ({
            ...record,
            status: 'building',
            ...(builtAt && { builtAt: built }),
          })),
        );
        await second.goto(`${server.url}/?collection=${COLLECTION}`);
        await expect.poll(() => testId(second, 'catalog-item').count()).toBe(PAGE);
        builtAt = false;
        await second.reload();
        await expect
          .poll(() => testId(second, 'status').textContent())
          .toBe(`Collection "${COLLECTION}" is being indexed…`);
        expect(await testId(second, 'catalog-item').count()).toBe(0);
      } finally {
        await second.close();
      }
    });

    it('stops waiting for a collection being built once the shopper picks another', async () => {
      const page = await browser.newPage();
      try {
        page.setDefaultTimeout(20_000);
        // A second collection, in its first build for as long as the test runs.
        await rewriteCollections(page, (collections) => [
          { name: 'arriving', method: 'mai', items: 5, status: 'building' },
          ...collections,
        ]);
        const catalogRequests: string[] = [];
        page.on('request', (request) => {
          if (request.url().includes('/items?')) catalogRequests.push(request.url());
        });
        await page.goto(`${server.url}/?collection=arriving`);
        await expect
          .poll(() => testId(page, 'status').textContent())
          .toBe('Collection "arriving" is being indexed…');
        await testId(page, 'collection-select').selectOption(COLLECTION);
        await expect.poll(() => testId(page, 'catalog-item').count()).toBe(PAGE);
        // Past the next poll of the first choice's wait, which used to load the catalog a second time.
        await page.waitForTimeout(2_500);
        expect(catalogRequests).toHaveLength(1);
        expect(await testId(page, 'status').textContent()).toMatch(
          new RegExp(`^Collection "${COLLECTION}": `),
        );
      } finally {
        await page.close();
      }
    });

    it('with a token: explains a 401, then works (images included) once the URL carries the token', async () => {
      const guarded = await startWithCollection(world, { token: TOKEN });
      const context = await browser.newContext();
      try {
        const tokenPage = await context.newPage();
        tokenPage.setDefaultTimeout(20_000);
        await tokenPage.goto(`${guarded.url}/`);
        await expect.poll(() => testId(tokenPage, 'status').textContent()).toMatch(/needs an access token/);

        await tokenPage.goto(`${guarded.url}/?token=${TOKEN}`);
        await expect.poll(() => testId(tokenPage, 'catalog-item').count()).toBe(24);
        // The token moves to sessionStorage, out of the address bar.
        expect(tokenPage.url()).not.toContain('token=');
        const image = testId(tokenPage, 'catalog-item').first().locator('img');
        await expect
          .poll(() => image.evaluate((element) => (element as { naturalWidth: number }).naturalWidth))
          .toBe(32);
        await tokenPage.reload();
        await expect.poll(() => testId(tokenPage, 'catalog-item').count()).toBe(24);
        // An empty ?token= is no token: the saved one still works, and the parameter leaves the address bar.
        await tokenPage.goto(`${guarded.url}/?token=&collection=${COLLECTION}`);
        await expect.poll(() => testId(tokenPage, 'catalog-item').count()).toBe(24);
        expect(tokenPage.url()).not.toContain('token');
      } finally {
        await context.close();
        await guarded.close();
      }
    });
  },
);
