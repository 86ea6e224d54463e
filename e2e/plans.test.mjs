// A week's work plan on a phone-sized screen, in the demo company: two teams share a site, so
// the unit's leader cannot publish; the work leader merges the site under an organiser with the
// shared safety measures; the leader approves and publishes. A work leader imports a day's items
// from a CSV: one bad row refuses the whole file, naming the file, line and column.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
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

test("a plan with a shared site is published only after the site is merged", async () => {
  // The draft week: two teams at 开发区 2 号环网柜 on its Monday, no organiser yet.
  const leader = await as("demo.leader");
  await leader.goto(server.base + "/plans");
  await leader.locator("tr", { hasText: "编制中" }).getByRole("link").first().click();
  await leader.waitForURL(/\/plans\/\d+$/);
  const url = leader.url();
  assert.equal(await leader.locator("[data-plan-state]").getAttribute("data-plan-state"), "draft");
  assert.match(await leader.locator("[data-shared-site]").textContent(), /开发区 2 号环网柜/);
  assert.match(await leader.locator("[data-person-twice]").textContent(), /XG1009/);
  // Both teams at the shared site are graded one level up (作业风险等级), saying why.
  const grades = await leader.locator("tr[data-item] [data-risk]").allTextContents();
  assert.deepEqual(grades.map((g) => g.trim()), ["三级（多班组同一现场）", "三级（多班组同一现场）"]);

  // Approved, but publication is refused while the site has no organiser.
  await submit(leader, leader.getByRole("button", { name: "审批", exact: true }));
  assert.equal(await leader.locator("[data-plan-state]").getAttribute("data-plan-state"), "approved");
  await leader.getByRole("button", { name: "发布", exact: true }).click();
  const refusal = await leader.locator(".form-errors .rule").first().textContent();
  assert.match(refusal, /协调人/);
  assert.match(refusal, /电力营销安全重点工作管理措施/);

  // The work leader merges the site under XG1019 with the shared measures.
  const workleader = await as("demo.workleader");
  await workleader.goto(url);
  await workleader.getByLabel("协调人").fill("XG1019");
  await workleader.getByLabel("共同安全措施").fill("统一停电、验电、挂接地线，完工清点人数后恢复");
  await submit(workleader, workleader.getByRole("button", { name: "合并现场" }));
  assert.equal(await workleader.locator("[data-shared-site]").count(), 0);
  assert.match(await workleader.locator("[data-merged]").textContent(), /统一停电/);

  // Now the leader publishes it.
  await leader.goto(url);
  await submit(leader, leader.getByRole("button", { name: "发布", exact: true }));
  assert.equal(await leader.locator("[data-plan-state]").getAttribute("data-plan-state"), "published");
});

test("a plan's items come in from a spreadsheet, whole or not at all", async () => {
  // The work leader opens a daily plan three weeks ahead and imports its items from a CSV.
  const workleader = await as("demo.workleader");
  const monday = new Date(Date.now() + 21 * 86400_000 + 8 * 3600_000).toISOString().slice(0, 10);
  await workleader.goto(server.base + "/plans");
  await workleader.getByLabel("计划类型").selectOption("daily");
  await workleader.getByLabel("起始日（周计划为星期一）").fill(monday);
  await workleader.getByRole("button", { name: "新建计划" }).click();
  await workleader.waitForURL(/\/plans\/\d+$/);
  const url = workleader.url();
  const before = await workleader.locator("tr[data-item]").count();
  const header = "开始时间,结束时间,作业地点,作业类型,班组,工作负责人,工作班成员,是否停电,备注\n";
  const upload = async (name, text) => {
    await workleader.goto(url);
    await workleader.locator("input[name=files]").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
    await workleader.getByRole("button", { name: "从表格导入作业项目" }).click();
  };

  // One bad row: nothing is imported and the problem names the file, the line and the column.
  await upload("计划.csv", `${header}${monday} 09:00,${monday} 11:00,西湖路 22 号,换表,孝南供电中心,XG1019,XG1023,否,\n${monday} 13:00,${monday} 12:00,西湖路 24 号,换表,孝南供电中心,XG1019,,否,\n`);
  const problems = await workleader.locator("[data-import-problems]").textContent();
  assert.match(problems, /计划\.csv/);
  assert.match(problems, /第 3 行/);
  assert.match(problems, /结束时间/);
  await workleader.goto(url);
  assert.equal(await workleader.locator("tr[data-item]").count(), before);

  // Corrected, both rows are added.
  await upload("计划.csv", `${header}${monday} 09:00,${monday} 11:00,西湖路 22 号,换表,孝南供电中心,XG1019,XG1023,否,\n${monday} 13:00,${monday} 15:00,西湖路 24 号,换表,孝南供电中心,XG1019,,否,\n`);
  await workleader.waitForURL(/imported=2/);
  assert.match(await workleader.locator("[data-imported]").textContent(), /2/);
  assert.equal(await workleader.locator("tr[data-item]").count(), before + 2);
});

