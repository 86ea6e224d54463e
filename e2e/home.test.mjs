// The first journey in a real browser: sign in with the first-start password, be made to change
// it, use the home page in Chinese and English, sign out; a wrong password is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser } from "./harness.mjs";

let server;
let browser;
const NEW_PASSWORD = "Gs-Field-2026!";

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page, password) {
  await page.goto(server.base + "/");
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel("用户名").fill("admin");
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
}

test("first sign-in forces a new password, then the home page works in both languages", async () => {
  assert.ok(server.adminPassword, "the first start printed a password:\n" + server.log());
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));

  await signIn(page, server.adminPassword);
  await page.waitForURL(server.base + "/account/password");
  assert.match(await page.locator("[role=alert]").first().textContent(), /请先设置新密码/);
  await page.getByLabel("当前密码").fill(server.adminPassword);
  await page.getByLabel("新密码", { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel("再次输入新密码").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "修改密码" }).click();
  await page.waitForURL(/\/account\/password\?done=1/);

  await page.goto(server.base + "/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.equal(await page.locator("h1").first().textContent(), "首页");
  await page.getByRole("button", { name: "English" }).click();
  await page.waitForURL(server.base + "/");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.locator("h1").first().textContent(), "Home");
  await page.getByRole("button", { name: "中文" }).click();
  await page.waitForURL(server.base + "/");
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  assert.deepEqual(errors, [], "no console errors (CSP violations included)");
  await context.close();
});

test("a wrong password is refused, and signing out ends the session", async () => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await signIn(page, "not-the-password-1A");
  assert.match(await page.locator("[role=alert]").textContent(), /用户名或密码不正确/);
  assert.match(page.url(), /\/login(\?next=.*)?$/, "still on the sign-in page, where it goes next kept");

  await signIn(page, NEW_PASSWORD);
  await page.waitForURL(server.base + "/");
  await page.locator(".user-menu summary").click();
  await page.getByRole("button", { name: "退出登录" }).click();
  await page.waitForURL(/\/login$/);
  await page.goto(server.base + "/admin/users");
  await page.waitForURL(/\/login\?next=%2Fadmin%2Fusers|\/login\?next=\/admin\/users/);
  await context.close();
});

test("on a phone the navigation folds behind the menu button", async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: "zh-CN" });
  const page = await context.newPage();
  await signIn(page, NEW_PASSWORD);
  await page.waitForURL(server.base + "/");
  const nav = page.locator("#main-nav");
  assert.equal(await nav.isVisible(), false);
  await page.getByRole("button", { name: "菜单" }).click();
  assert.equal(await nav.isVisible(), true);
  await page.getByRole("link", { name: "用户" }).click();
  await page.waitForURL(server.base + "/admin/users");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no horizontal scrolling (page is ${width}px wide)`);
  await page.screenshot({ path: new URL("./out/users-phone.png", import.meta.url).pathname, fullPage: true });
  await context.close();
});

test("an unknown page shows the error page with a way back", async () => {
  const context = await browser.newContext({ locale: "en-US" });
  const page = await context.newPage();
  const response = await page.goto(server.base + "/no/such/page");
  assert.equal(response.status(), 404);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.waitForURL(/\/login/);
  await context.close();
});
