// The home page in a real browser: Chinese first, switch to English and back, phone layout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("home page opens in Chinese and switches to English and back", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(server.base + "/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.equal(await page.locator("h1").first().textContent(), "首页");

  await page.getByRole("button", { name: "English" }).click();
  await page.waitForURL(server.base + "/");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.locator("h1").first().textContent(), "Home");
  assert.match(await page.title(), /GridSafe/);

  await page.getByRole("button", { name: "中文" }).click();
  await page.waitForURL(server.base + "/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.deepEqual(errors, [], "no console errors (CSP violations included)");
  await context.close();
});

test("on a phone the navigation folds behind the menu button", async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto(server.base + "/");
  const nav = page.locator("#main-nav");
  assert.equal(await nav.isVisible(), false);
  await page.getByRole("button", { name: "菜单" }).click();
  assert.equal(await nav.isVisible(), true);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling (page is ${width}px wide)`);
  await page.screenshot({ path: new URL("./out/home-phone.png", import.meta.url).pathname, fullPage: true });
  await context.close();
});

test("an unknown page shows the error page with a way back", async () => {
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  const response = await page.goto(server.base + "/no/such/page");
  assert.equal(response.status(), 404);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.getByRole("link", { name: "Back to the home page" }).click();
  await page.waitForURL(server.base + "/");
  await context.close();
});
