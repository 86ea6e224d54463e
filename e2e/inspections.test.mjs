// A customer inspection on a phone, from the checklist to a closed hazard: the inspector records
// an inspection of the demo farm with two qualified inspectors, adds a photo, records the
// customer's signature on the result notice, registers a customer-side hazard, issues the notice,
// records the receipt, is told rectification follows the filing (HAZARD_FILING), files, seals
// the generator, rectifies and asks for review; the safety auditor reviews and closes it (销号).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, phoneAs, submit } from "./harness.mjs";

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

/** A phone-sized page signed in as the demo account `username`. */
const as = (username) => phoneAs(browser, server.base, username);

async function fitsThePhone(page) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `${page.url()} is ${width}px wide`);
}

test("an inspection on a phone leads to a hazard closed by the safety auditor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gridsafe-photo-"));
  const photo = join(dir, "generator.png");
  // The smallest valid PNG: one transparent pixel.
  writeFileSync(photo, Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64"));

  const inspector = await as("demo.inspector");
  await inspector.goto(server.base + "/customers");
  await fitsThePhone(inspector);
  await inspector.getByRole("link", { name: "0701000104" }).click();
  assert.match(await inspector.locator("h1").textContent(), /养殖场/);
  await inspector.getByRole("link", { name: "用电检查", exact: true }).click();
  await fitsThePhone(inspector);
  await inspector.locator("input[name=inspector][data-code=XG1002]").check();
  await inspector.locator("input[name=inspector][data-code=XG1007]").check();
  const generator = inspector.locator("#section-emergency_power .item").first();
  await generator.getByLabel("存在问题").check();
  await generator.getByPlaceholder("情况说明").fill("猪舍配电间发现未备案 50 kW 柴油发电机");
  // Items start unanswered: the rest are marked 合格 by a deliberate press.
  await inspector.getByRole("button", { name: "其余未答项目全部合格" }).click();
  assert.equal(await generator.getByLabel("存在问题").isChecked(), true, "an answered item keeps its answer");
  await inspector.getByLabel("检查结论").fill("发现未备案自备电源，已下达整改通知。");
  await inspector.getByRole("button", { name: "保存检查记录" }).click();
  await inspector.waitForURL(/\/inspections\/\d+$/);
  assert.match(await inspector.locator("#results").textContent(), /未备案 50 kW/);

  await inspector.setInputFiles("input[name=photo]", photo);
  await submit(inspector, inspector.getByRole("button", { name: "上传照片" }));
  assert.equal(await inspector.locator("#photos img").count(), 1);
  await inspector.getByLabel("签收人", { exact: true }).fill("场长 胡建华");
  await inspector.getByLabel(/已核对：客户已在/).check();
  await submit(inspector, inspector.getByRole("button", { name: "登记签收" }));
  assert.ok(await inspector.locator("[data-signed]").isVisible());

  await inspector.getByRole("link", { name: "登记隐患" }).click();
  await inspector.getByLabel("隐患名称").fill("未备案柴油发电机无闭锁");
  await inspector.getByLabel("隐患等级").selectOption({ label: "重大隐患（默认整改期限 30 天）" });
  await inspector.getByRole("button", { name: "登记", exact: true }).click();
  await inspector.waitForURL(/\/hazards\/\d+$/);
  const hazard = inspector.url();
  await fitsThePhone(inspector);
  const state = () => inspector.locator("[data-hazard-state]").getAttribute("data-hazard-state");

  await submit(inspector, inspector.getByRole("button", { name: "发整改通知书" }));
  assert.equal(await state(), "notified");
  await inspector.getByLabel("客户签收人", { exact: true }).fill("场长 胡建华");
  await inspector.getByLabel(/已核对：客户已在/).check();
  await submit(inspector, inspector.getByRole("button", { name: "客户签收" }));
  assert.equal(await state(), "receipt_signed");

  // Rectification before the filing is not offered; the page says why.
  assert.equal(await inspector.getByRole("button", { name: "开始整改" }).count(), 0);
  assert.match(await inspector.locator("[data-why-not=rectify]").textContent(), /备案后才能开始整改/);
  assert.equal(await state(), "receipt_signed");
  await inspector.getByLabel("报备文号").fill("孝经信电〔2026〕51号");
  await submit(inspector, inspector.getByRole("button", { name: "报备政府部门" }));
  assert.equal(await state(), "filed");
  await inspector.getByLabel("设备").fill("50 kW 柴油发电机");
  await inspector.getByLabel("封印编号").fill("FC-2026-0077");
  await submit(inspector, inspector.getByRole("button", { name: "封存", exact: true }));
  assert.match(await inspector.locator("#seals").textContent(), /FC-2026-0077/);
  await submit(inspector, inspector.getByRole("button", { name: "开始整改" }));
  assert.equal(await state(), "rectifying");
  await submit(inspector, inspector.getByRole("button", { name: "整改完成，申请复查" }));
  assert.equal(await state(), "reviewing");

  const auditor = await as("demo.safety");
  await auditor.goto(hazard);
  await auditor.getByLabel("整改佐证 / 复查意见").fill("发电机已拆除并网接线，加装双投闸刀闭锁，已向供电企业备案。");
  await submit(auditor, auditor.getByRole("button", { name: "复查", exact: true }));
  assert.equal(await auditor.locator("[data-hazard-state]").getAttribute("data-hazard-state"), "closed");
  assert.match(await auditor.locator("#history").textContent(), /复查通过，销号/);
  await fitsThePhone(auditor);

  // The dashboard counts it.
  await auditor.goto(server.base + "/safety");
  assert.ok(await auditor.locator("svg.chart").first().isVisible());
});
