// The cross-audit in the browser: the safety auditor uploads a marketing export on a phone,
// sees the import's status and counts, opens a ticketless-work finding with its evidence and
// confirms it into a rectification task.
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

test("an auditor uploads an export and confirms a finding", async () => {
  const dir = mkdtempSync(join(tmpdir(), "gridsafe-export-"));
  const orders = join(dir, "work_orders.csv");
  writeFileSync(
    orders,
    "工单编号,业务类型,户号,供电单位,开始时间,结束时间,作业人员\n" +
      "WO-E2E-7,换表,4309997777,孝南供电中心,2026-11-20 09:00,2026-11-20 10:00,XG1040\n",
  );
  const page = await phoneAs(browser, server.base, "demo.safety");

  await page.goto(server.base + "/findings");
  await page.getByRole("link", { name: "导入营销数据" }).click();
  const unit = await page.locator("select[name=unit_id] option", { hasText: "孝南供电中心" }).first().getAttribute("value");
  await page.locator("select[name=unit_id]").selectOption(unit);
  await page.setInputFiles("input[type=file]", orders);
  await page.getByRole("button", { name: "导入并倒查" }).click();
  await page.locator("[data-imported]").waitFor();
  assert.equal(await page.locator("[data-count=orders]").textContent(), "1");

  await page.getByRole("link", { name: "查看待核实的发现" }).click();
  await page.getByRole("row", { name: /WO-E2E-7/ }).filter({ hasText: "无票作业" }).getByRole("link").click();
  assert.match(await page.locator("h1").textContent(), /无票作业/);
  assert.match(await page.locator("#order").textContent(), /WO-E2E-7/);
  assert.ok(await page.locator("[data-no-ticket]").isVisible());
  assert.match(await page.locator("#people").textContent(), /XG1040/);

  // The person responsible is picked from the register: typing part of a 工号 lists who it finds.
  await page.getByLabel("责任人").fill("XG100");
  const option = page.locator('#review datalist option[value="XG1007"]');
  await option.waitFor({ state: "attached" });
  assert.match(await option.getAttribute("label"), /孝南/);
  await page.getByLabel("责任人").fill("XG1007");
  await submit(page, page.getByRole("button", { name: "确认并下达整改" }));
  assert.equal(await page.locator("[data-finding-state]").getAttribute("data-finding-state"), "confirmed");
  await page.goto(server.base + "/tasks");
  assert.match(await page.locator("ul.plain").textContent(), /无票作业 WO-E2E-7/);
});
