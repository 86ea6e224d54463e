// Emergency drills and the customers' voice on a phone-sized screen, in the demo company: the
// safety auditor sees an on-site plan's drill overdue, records the drill with a problem, the
// problem goes into the closed loop and is rectified by the inspector and closed by the auditor;
// the customer manager imports a 95598 export whose bad row is named, then the fixed file.
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

const as = (username) => phoneAs(browser, server.base, username);

async function fits(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `${what} is ${width}px wide`);
}

/** Today in China, `YYYY-MM-DD`, `days` from now. */
function day(days) {
  return new Date(Date.now() + 8 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

test("a drill's problem is rectified and closed in the loop; a complaint export is imported once fixed", async () => {
  const auditor = await as("demo.safety");
  await auditor.goto(server.base + "/");
  assert.ok((await auditor.locator("[data-todo='home-todo-drill']").count()) >= 1, "the overdue drill is on the home page");
  await auditor.goto(server.base + "/emergency");
  await fits(auditor, "the emergency page");
  const overdue = auditor.locator("[data-schedule] tr[data-overdue=true]", { hasText: "计量装置带电作业触电现场处置方案" });
  assert.equal(await overdue.count(), 1);
  await overdue.getByRole("link").click();
  await auditor.waitForURL(/\/emergency\/plans\/\d+$/);
  const plan = auditor.url();

  // The drill, with one problem assigned to the inspector.
  const form = auditor.locator("[data-drill-form]");
  await form.getByLabel("演练场景").fill("带电换表时相间短路，现场急救与停电隔离");
  await form.getByLabel("参演人员（工号）").fill("XG1001 XG1002 XG1013");
  await form.getByLabel("演练评估").selectOption("adequate");
  await form.getByLabel("发现的问题（每行一项，各自进入隐患闭环）").fill("急救箱药品过期");
  await form.getByLabel("整改责任人（工号）").fill("XG1002");
  await form.getByLabel("整改期限").fill(day(7));
  await submit(auditor, form.getByRole("button", { name: "保存演练记录" }));
  await auditor.waitForURL(/\/emergency\/drills\/\d+$/);
  const drill = auditor.url();
  const problem = auditor.locator("[data-drill-hazards] li");
  assert.equal(await problem.count(), 1);
  assert.match(await problem.textContent(), /急救箱药品过期/);
  await fits(auditor, "the drill");
  await auditor.goto(plan);
  assert.equal(await auditor.locator("[data-next-drill] .overdue").count(), 0, "drilled: no longer overdue");

  // The inspector rectifies it; the auditor reviews and closes it.
  await auditor.goto(drill);
  const hazard = server.base + (await problem.getByRole("link").getAttribute("href"));
  const inspector = await as("demo.inspector");
  await inspector.goto(hazard);
  await submit(inspector, inspector.getByRole("button", { name: "开始整改" }));
  await submit(inspector, inspector.getByRole("button", { name: "整改完成，申请复查" }));
  assert.equal(await inspector.locator("[data-hazard-state]").getAttribute("data-hazard-state"), "reviewing");
  await auditor.goto(hazard);
  await auditor.getByLabel("整改佐证 / 复查意见").fill("急救箱药品已全部更换，建立月度检查表。");
  await submit(auditor, auditor.getByRole("button", { name: "复查", exact: true }));
  assert.equal(await auditor.locator("[data-hazard-state]").getAttribute("data-hazard-state"), "closed");
  await auditor.goto(drill);
  assert.match(await auditor.locator("[data-drill-hazards] li .status").getAttribute("class"), /state-closed/);

  // The customer manager imports the 95598 export: a bad row is named, nothing is written.
  const manager = await as("demo.manager");
  await manager.goto(server.base + "/feedback");
  const unit = "孝南供电中心";
  const rows = (when) =>
    "工单编号,受理时间,户号,类别,内容,供电单位\n" +
    `95598-E2E-1,${day(0)} 00:01,,用电安全,小区配电箱门未锁,${unit}\n` +
    `95598-E2E-2,${when},,触电隐患,路灯杆漏电,${unit}\n`;
  const upload = async (text) => {
    await manager.goto(server.base + "/feedback");
    await manager.getByLabel(/客服系统导出文件/).setInputFiles({ name: "投诉.csv", mimeType: "text/csv", buffer: Buffer.from(text) });
    await manager.getByRole("button", { name: "导入投诉工单" }).click();
    await manager.locator("[data-import-problems], [data-imported]").first().waitFor();
  };
  await upload(rows("前天下午"));
  const problems = await manager.locator("[data-import-problems]").textContent();
  assert.match(problems, /投诉\.csv/);
  assert.match(problems, /第 3 行/);
  assert.match(problems, /受理时间/);
  assert.equal(await manager.locator("[data-complaint='95598-E2E-1']").count(), 0, "nothing imported");
  await upload(rows(`${day(0)} 00:02`));
  assert.match(await manager.locator("[data-imported]").textContent(), /已导入 2 条/);
  assert.equal(await manager.locator("[data-complaint='95598-E2E-2']").count(), 1);
  await fits(manager, "the feedback page");
});
