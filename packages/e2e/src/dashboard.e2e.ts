import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './harness/browser';
import { openClient } from './harness/clients';
import { Cluster } from './harness/cluster';
import { addressOf } from './harness/endpoint';
import { MARGIN_MS } from './harness/margin';
import { nodesForKey } from './harness/resp';

const FAILURE_TIMEOUT_MS = 2000;
const KEYS = 3000;
/** 1 KiB values, streamed to the joining node at 1 MiB/s: the join takes a few seconds. */
const VALUE = 'v'.repeat(1024);
const JOIN_STREAM_RATE = 1024 * 1024;
/** The join copies about 3 MiB at 1 MiB/s; generous for a loaded 2-core machine. */
const JOIN_MS = 60_000;
/**
 * `UPDATE_SCREENSHOT=1` writes the screenshot the docs show (docs/dashboard.png); otherwise
 * it goes to a temporary directory, so a test run leaves the tree as it was.
 */
const SCREENSHOT =
  process.env['UPDATE_SCREENSHOT'] === '1'
    ? join(__dirname, '../../../docs/dashboard.png')
    : join(mkdtempSync(join(tmpdir(), 'kv-dashboard-')), 'dashboard.png');

let browser: Browser | undefined;
const dataDirs: string[] = [];
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard in a real browser', () => {
  it('shows the nodes and the ring, a killed node dead, and a joining node’s progress, live', async () => {
    const cluster = await Cluster.start({ metrics: true, failureTimeoutMs: FAILURE_TIMEOUT_MS });
    const client = openClient({ coordinator: cluster.coordinatorAddress });
    for (let i = 0; i < KEYS; i += 300) {
      await Promise.all(Array.from({ length: 300 }, (_, j) => client.put(`key:${i + j}`, VALUE)));
    }

    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1320, height: 800 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://${addressOf(cluster.coordinatorMetrics ?? 0)}/`);

    const ids = cluster.nodes.map((n) => n.id);
    await page.locator('#nodes tbody tr[data-state="up"]').nth(2).waitFor();
    expect(await page.locator('#nodes tbody tr').count()).toBe(3);
    // The ring: arcs owned by each of the three nodes.
    const owners = await page
      .locator('#ring path[data-owner]')
      .evaluateAll((paths) => [...new Set(paths.map((p) => p.getAttribute('data-owner')))]);
    expect(owners.sort()).toEqual([...ids].sort());
    // Every node holds a replica of every key: the table's keys column says so.
    const keys = await page.locator('#nodes tbody tr td:nth-child(4)').allTextContents();
    expect(keys).toEqual([String(KEYS), String(KEYS), String(KEYS)]);

    // The replicas of a key typed in, as the coordinator places it.
    await page.fill('#key', 'key:42');
    await page.locator('#replicas li').nth(2).waitFor();
    const listed = await page
      .locator('#replicas li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-id')));
    expect(listed).toEqual(await nodesForKey(cluster.coordinatorEndpoint, 'key:42'));

    // A node dies: the page shows it within the failure timeout, without a reload.
    const victim = cluster.nodes[2] as (typeof cluster.nodes)[0];
    await victim.process.kill();
    await page
      .locator(`#nodes tbody tr[data-id="${victim.id}"][data-state="dead"]`)
      .waitFor({ timeout: FAILURE_TIMEOUT_MS + MARGIN_MS });
    expect(await page.locator('#nodes tbody tr[data-state="up"]').count()).toBe(2);

    // A fourth node, durable, joins: its progress bar appears, then completes.
    const dataDir = mkdtempSync(join(tmpdir(), 'kv-dashboard-node-'));
    dataDirs.push(dataDir);
    const joining = await cluster.startNode([
      ...['--stream-rate', String(JOIN_STREAM_RATE)],
      ...['--data-dir', dataDir],
    ]);
    const bar = page.locator(`#rebalance .progress[data-id="${joining.id}"]`);
    await bar.and(page.locator('[data-active="true"]')).waitFor({ timeout: JOIN_MS });
    await page.locator(`#nodes tbody tr[data-id="${joining.id}"][data-state="joining"]`).waitFor();
    await page.screenshot({ path: SCREENSHOT });
    await bar.and(page.locator('[data-active="false"]')).waitFor({ timeout: JOIN_MS });
    expect(await bar.getAttribute('data-percent')).toBe('100');
    await page.locator(`#nodes tbody tr[data-id="${joining.id}"][data-state="up"]`).waitFor();
    expect(await page.locator('#nodes tbody tr[data-state="up"]').count()).toBe(3);
    // The disk column: the nodes in memory say so; the durable one took what it was sent
    // through its write-ahead log, whose sync p99 it shows.
    const disk = (id: string) => page.locator(`#nodes tbody tr[data-id="${id}"] td:nth-child(8)`);
    await disk(joining.id)
      .and(page.locator('td', { hasText: /^always · \d+\.\d\d ms$/ }))
      .waitFor();
    expect(await disk(ids[0] as string).textContent()).toBe('memory');
    expect(await disk(victim.id).textContent()).toBe('–');
    expect(pageErrors).toEqual([]);
  });
});
