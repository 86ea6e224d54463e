// Integration on a phone-sized screen, in the demo company: the safety auditor finds the city's
// event notifications (a 企业微信 robot and the audit platform, their delivery logs), subscribes
// her team's group robot and is shown its signing secret once, with the robot's key masked after;
// then she brings an old inspection history in: a file with a problem is refused whole, naming
// the line and the column, and the corrected file is imported and listed with its origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, phoneAs } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({ demo: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function fits(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `${what} is ${width}px wide`);
}

test("the auditor subscribes a group robot and reads the delivery logs", async () => {
  const auditor = await phoneAs(browser, server.base, "demo.safety");
  await auditor.goto(server.base + "/webhooks");
  await fits(auditor, "the notifications page");
  const robot = auditor.locator("tr[data-webhook='孝感安全管控群（企业微信）']");
  assert.equal(await robot.count(), 1, "the demo's robot is listed");
  assert.match(await robot.textContent(), /已送达/);
  await robot.getByRole("link").click();
  await auditor.waitForURL(/\/webhooks\/\d+$/);
  assert.ok((await auditor.locator("tr[data-delivery][data-state='delivered']").count()) >= 1, "delivered on the log");
  assert.match(await auditor.locator("dl.facts").textContent(), /send\?…/, "the robot's key is masked");

  await auditor.goto(server.base + "/webhooks");
  const form = auditor.locator("[data-webhook-form]");
  await form.getByLabel("名称").fill("孝南装表班安全群");
  await form.getByLabel("接收地址").fill("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=team-robot-key");
  await form.getByLabel("消息格式").selectOption("wecom");
  await form.getByLabel("工作票步骤被拒绝").uncheck();
  // The answer is a page in place (the secret is in it, never in an address): wait for it.
  await form.getByRole("button", { name: "保存订阅" }).click();
  await auditor.locator("[data-webhook-secret]").waitFor();
  const secret = (await auditor.locator("[data-webhook-secret] code").textContent()).trim();
  assert.match(secret, /^[0-9a-f]{64}$/, "the secret is shown once");
  await fits(auditor, "the page with the secret");
  await auditor.locator("[data-webhook-secret]").getByRole("link").click();
  await auditor.waitForURL(/\/webhooks\/\d+$/);
  const page = await auditor.content();
  assert.ok(!page.includes(secret) && !page.includes("team-robot-key"), "neither the secret nor the key again");
  assert.equal(await auditor.locator("input[name='events'][value='ticket.step_refused']").isChecked(), false);
  assert.equal(await auditor.locator("input[name='events'][value='finding.opened']").isChecked(), true);
});

test("the auditor imports an old inspection history, refused whole until it is right", async () => {
  const auditor = await phoneAs(browser, server.base, "demo.safety");
  await auditor.goto(server.base + "/history");
  await fits(auditor, "the history page");
  const form = auditor.locator("#register-inspections form");
  const file = (content) => ({ name: "检查记录.csv", mimeType: "text/csv", buffer: Buffer.from(content) });
  await form.locator("input[type=file]").setInputFiles(file("户号,检查日期,检查结论\n0701000101,2025-04-02,合格\n0701000102,2025-13-01,合格\n"));
  await form.getByRole("button", { name: "导入" }).click();
  await auditor.locator("[data-import-problems]").waitFor();
  const problems = await auditor.locator("[data-import-problems]").textContent();
  assert.match(problems, /检查记录\.csv第 3 行「检查日期」列/);
  assert.equal(await auditor.locator("[data-import-row]").count(), 0, "nothing imported");

  const again = auditor.locator("#register-inspections form");
  await again.locator("input[type=file]").setInputFiles(file("户号,检查日期,检查结论\n0701000101,2025-04-02,合格\n0701000102,2025-03-01,合格\n"));
  await again.getByRole("button", { name: "导入" }).click();
  await auditor.locator("[data-imported]").waitFor();
  assert.match(await auditor.locator("[data-imported]").textContent(), /已导入 2 条记录/);
  const row = auditor.locator("[data-import-row]").first();
  assert.match(await row.textContent(), /用电检查记录[\s\S]*检查记录\.csv[\s\S]*demo\.safety/);
});
