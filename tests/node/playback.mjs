// Plays an HLS master playlist with hls.js in Debian's headless Chromium and
// checks what hls.js's own functional tests check: `loadeddata` fires, time
// advances on the highest level, a seek near the end reaches `ended`, and no
// fatal ERROR event is raised. Each step says when it ended (`at`, ms since
// the epoch), so a test can tell it played before a live job finished.
//
//   node playback.mjs PAGE_URL      (PAGE_URL: player.html?src=<master>)
//
// Prints one JSON line with what happened; exit 0 when every step passed,
// 1 when one failed (the JSON says which), 2 on a usage error.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.argv[2];
if (!url) {
  console.error('usage: node playback.mjs PAGE_URL');
  process.exit(2);
}
const STEP_MS = Number(process.env.RCX_PLAYBACK_STEP_MS || 30000);
const profile = mkdtempSync(join(tmpdir(), 'rcx-chromium-'));
const result = { url, steps: [], ok: false };
let context;

async function step(name, fn) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    result.steps.push({ name, ok: true, ms: Date.now() - t0, at: Date.now(), detail });
  } catch (e) {
    result.steps.push({ name, ok: false, ms: Date.now() - t0, at: Date.now(), error: String(e.message || e).split('\n')[0] });
    throw e;
  }
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.RCX_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--autoplay-policy=no-user-gesture-required'],
  });
  const page = context.pages()[0] || await context.newPage();
  const opts = { timeout: STEP_MS, polling: 100 };
  const state = () => page.evaluate(() => ({ ...window.rcx, currentTime: document.getElementById('video').currentTime,
                                             duration: document.getElementById('video').duration,
                                             currentLevel: window.hls.currentLevel }));
  // A fatal error ends every wait at once, with its details.
  const until = (pred) => page.waitForFunction(
    `(() => { if (window.rcx && window.rcx.fatal) throw new Error('fatal hls.js error: ' + JSON.stringify(window.rcx.fatal)); return (${pred})(); })()`,
    null, opts);

  await step('load', async () => {
    await page.goto(url, { waitUntil: 'load', timeout: STEP_MS });
    const s = await state();
    if (!s.supported) throw new Error('Hls.isSupported() is false: no MSE in this Chromium');
  });
  await step('loadeddata', async () => {
    await until(`() => window.rcx.loadeddata`);
    return { levels: (await state()).levels };
  });
  await step('top-level-plays', async () => {
    const top = await page.evaluate(() => {
      const top = window.hls.levels.length - 1;
      window.hls.currentLevel = top;
      document.getElementById('video').play();
      return top;
    });
    await until(`() => window.rcx.switchedTo === ${top} && window.hls.currentLevel === ${top}`);
    const t0 = await page.evaluate(() => document.getElementById('video').currentTime);
    await until(`() => document.getElementById('video').currentTime > ${t0} + 1.0`);
    const s = await state();
    return { level: top, from: t0, to: s.currentTime, height: s.levels[top] && s.levels[top].height };
  });
  await step('seek-to-end', async () => {
    const target = await page.evaluate(() => {
      const v = document.getElementById('video');
      const t = Math.max(0, v.duration - 1.5);
      v.currentTime = t;
      v.play();
      return t;
    });
    await until(`() => window.rcx.ended`);
    const s = await state();
    return { seekedTo: target, duration: s.duration, endedAt: s.currentTime };
  });
  await step('no-fatal-error', async () => {
    const s = await state();
    if (s.fatal) throw new Error('fatal hls.js error: ' + JSON.stringify(s.fatal));
    return { nonFatal: s.errors.length, events: s.events };
  });
  result.ok = true;
} catch (e) {
  result.error = String(e.message || e).split('\n')[0];
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
