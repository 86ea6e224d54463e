// Importing a workbook in a real browser: the administrator makes a safety auditor, who
// uploads an Excel register, sees the preview, confirms, and finds the people in the list.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, submit } from "./harness.mjs";

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

async function signIn(page, username, password) {
  await page.goto(server.base + "/login");
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
}

test("a safety auditor imports a workbook and sees the people", async () => {
  const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 390, height: 844 } });
  const page = await context.newPage();

  // The first administrator sets a password and creates the auditor.
  await signIn(page, "admin", server.adminPassword);
  await page.getByLabel("当前密码").fill(server.adminPassword);
  await page.getByLabel("新密码", { exact: true }).fill("Gs-Field-2026!");
  await page.getByLabel("再次输入新密码").fill("Gs-Field-2026!");
  await submit(page, page.getByRole("button", { name: "修改密码" }));
  await page.goto(server.base + "/admin/users");
  await page.getByLabel("用户名", { exact: true }).fill("auditor1");
  await page.getByLabel("姓名", { exact: true }).fill("稽查员一");
  await page.getByRole("button", { name: "新建" }).click();
  const initial = await page.locator("[data-initial-password]").textContent();
  await page.getByRole("link", { name: "auditor1" }).click();
  await page.locator("select[name=role]").selectOption("safety_auditor");
  await submit(page, page.getByRole("button", { name: "授予" }));
  await context.clearCookies();

  // The auditor signs in, changes the initial password, and imports.
  await signIn(page, "auditor1", initial);
  await page.getByLabel("当前密码").fill(initial);
  await page.getByLabel("新密码", { exact: true }).fill("Gs-Audit-2026!");
  await page.getByLabel("再次输入新密码").fill("Gs-Audit-2026!");
  await submit(page, page.getByRole("button", { name: "修改密码" }));
  await page.goto(server.base + "/people/import");
  await page.setInputFiles("input[type=file]", new URL("./fixtures/people.xlsx", import.meta.url).pathname);
  await page.getByRole("button", { name: "预览" }).click();
  assert.equal(await page.locator("[data-count=persons-new]").textContent(), "2");
  assert.equal(await page.locator("[data-count=qualifications-new]").textContent(), "2");
  await page.getByRole("button", { name: /确认导入/ }).click();
  await page.getByRole("heading", { name: "导入完成" }).waitFor();

  await page.goto(server.base + "/people");
  assert.ok(await page.getByText("测试甲").isVisible());
  await page.getByRole("link", { name: "E2E002" }).click();
  // Safety exam missing, leader list present: refused with the rule named.
  assert.match(await page.locator(".role-checks").textContent(), /SAFETY_EXAM/);
  await page.screenshot({ path: new URL("./out/person-phone.png", import.meta.url).pathname, fullPage: true });
  await context.close();
});
