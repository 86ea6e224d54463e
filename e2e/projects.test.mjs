// A customer project (业扩报装) on a phone-sized screen, in the demo company: the customer manager
// registers a new project and records its survey and supply plan; at the farm whose completion
// report is in, the inspector records a failed acceptance with two defects (one written notice),
// the manager prints the notice and records it signed; the crew's 装表接电 ticket for the farm
// is refused at 许可 naming a defect; the customer rectifies, the recheck closes both defects,
// and the ticket is permitted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, phoneAs, submit, takeStep } from "./harness.mjs";

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

/** A local `datetime-local` value `hours` from now. */
function local(hours) {
  const d = new Date(Date.now() + hours * 3600_000 + 8 * 3600_000);
  return d.toISOString().slice(0, 16);
}

/** The page's width fits the phone. */
async function fits(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `${what} is ${width}px wide`);
}

/** Takes a project step from its form on the project's page. */
async function projectStep(page, url, step, note = "") {
  await page.goto(url);
  const form = page.locator(`[data-step-form=${step}]`);
  if (note) await form.locator("textarea[name=note]").fill(note);
  await submit(page, form.locator(`button[data-step=${step}]`));
}

test("a failed acceptance holds the meter install ticket until the recheck closes its defects", async () => {
  // The customer manager registers a new connection for a customer new to the register.
  const manager = await as("demo.manager");
  await manager.goto(server.base + "/projects");
  await fits(manager, "the project list");
  await manager.getByRole("link", { name: "登记业扩工程" }).click();
  await manager.getByLabel("户号").fill("0701000999");
  await manager.getByLabel("户名").fill("孝南区书院街 99 号商铺");
  await manager.getByLabel("用电地址").fill("孝南区书院街 99 号");
  await manager.getByLabel("业务类型").selectOption("new");
  await manager.getByLabel("电压等级（kV）").fill("10");
  await manager.getByLabel("合同容量（kVA）").fill("400");
  await manager.getByLabel("设计单位").fill("C03");
  await manager.getByLabel("施工单位").fill("C01");
  await submit(manager, manager.getByRole("button", { name: "受理登记" }));
  await manager.waitForURL(/\/projects\/\d+$/);
  assert.equal(await manager.locator("[data-project-stage]").getAttribute("data-project-stage"), "plan_reply");
  assert.match(await manager.locator("[data-stage-row=plan_reply]").textContent(), /时限 15 个工作日/);
  const mine = manager.url();
  // The reply waits for the survey: the page offers the survey first, then the reply.
  assert.equal(await manager.locator("[data-step-form=reply]").count(), 0);
  await projectStep(manager, mine, "survey", "配电房位置已与客户确认");
  await projectStep(manager, mine, "reply", "10kV 单电源，400kVA 箱变");
  assert.equal(await manager.locator("[data-project-stage]").getAttribute("data-project-stage"), "design_review");
  await fits(manager, "the project page");

  // The farm's completion report is in: the inspector finds two defects at once.
  const inspector = await as("demo.inspector");
  await inspector.goto(server.base + "/");
  assert.ok((await inspector.locator("[data-todo='home-todo-project-inspect']").count()) >= 1, "on the inspector's to-do list");
  await inspector.goto(server.base + "/projects");
  await inspector.locator("[data-project]", { hasText: "0701000104" }).getByRole("link").click();
  await inspector.waitForURL(/\/projects\/\d+$/);
  const farm = inspector.url();
  const form = inspector.locator("[data-inspect-form]");
  await form.getByLabel("本次发现的缺陷（每行一项）").fill("箱变接地电阻实测 6.5Ω，大于 4Ω\n电缆沟未封堵");
  await form.getByLabel("检验意见").fill("竣工检验不合格");
  await submit(inspector, form.getByRole("button", { name: "保存检验记录" }));
  assert.equal(await inspector.locator("[data-open-defects] li").count(), 2);
  assert.equal(await inspector.locator("[data-paused]").count(), 1, "returned to the customer: the clock waits");
  await fits(inspector, "the failed inspection");

  // The manager prints the one written notice with both defects and records it signed.
  await manager.goto(farm);
  await manager.locator("[data-print-notice]").click();
  await manager.waitForURL(/\/notices\/\d+$/);
  assert.equal(await manager.locator("[data-project-notice]").count(), 2, "the customer's copy and the file copy");
  assert.equal(await manager.locator("[data-project-notice]").first().locator("[data-notice-defect]").count(), 2);
  await manager.goto(farm);
  const receipt = manager.locator("[data-receipt-form]");
  await receipt.getByLabel("客户签收人").fill("汇丰养殖场 陈场长");
  await receipt.getByLabel(/客户已在告知书上签收/).check();
  await submit(manager, receipt.getByRole("button", { name: "登记签收" }));
  assert.match(await manager.locator("[data-notice-signed]").textContent(), /陈场长/);

  // The crew's 装表接电 ticket for the farm: issued and received, refused at 许可 naming a defect.
  const leader = await as("demo.workleader");
  await leader.goto(server.base + "/tickets/new");
  await leader.getByLabel("票种").selectOption({ label: "低压工作票" });
  await leader.getByLabel("作业类型").selectOption("meter_install");
  await leader.getByLabel("户号").fill("0701000104");
  await leader.getByLabel("电压等级（kV）").fill("0.4");
  await leader.getByLabel("工作地点").fill("孝南区朋兴乡汇丰村箱变计量柜");
  await leader.getByLabel("工作内容").fill("新装高供低计电能表并接电");
  await leader.getByLabel("工作票签发人").fill("XG1011");
  await leader.getByLabel("工作许可人").fill("XG1013");
  await leader.getByLabel("工作班成员（不含负责人）").fill("XG1004");
  await leader.getByLabel("计划开始").fill(local(-0.5));
  await leader.getByLabel("计划结束").fill(local(4));
  await leader.getByLabel("计划外作业原因").fill("客户增容工程配套装表");
  await leader.getByRole("button", { name: "保存草稿" }).click();
  await leader.waitForURL(/\/tickets\/\d+$/);
  const ticket = leader.url();
  const unitManager = await as("demo.leader");
  await unitManager.goto(ticket);
  await unitManager.getByRole("button", { name: "批准计划外作业" }).click();
  await unitManager.waitForURL(/#plan$/);
  await takeStep(await as("demo.issuer"), ticket, "签发");
  await takeStep(leader, ticket, "接票");
  const permitter = await as("demo.permitter");
  await permitter.goto(ticket);
  const refusal = await permitter.locator("[data-unavailable=permit]").textContent();
  assert.match(refusal, /缺陷/);
  assert.match(refusal, /箱变接地电阻实测 6\.5Ω/);
  assert.match(refusal, /供电营业规则/);

  // The customer rectifies; the recheck answers both defects and the acceptance passes.
  await projectStep(manager, farm, "resume", "客户整改完毕，申请复检");
  await inspector.goto(farm);
  const recheck = inspector.locator("[data-inspect-form]");
  for (const row of await recheck.locator("[data-recheck]").all()) {
    await row.getByLabel("已整改").check();
  }
  await submit(inspector, recheck.getByRole("button", { name: "保存检验记录" }));
  assert.equal(await inspector.locator("[data-project-stage]").getAttribute("data-project-stage"), "energise");
  assert.equal(await inspector.locator("[data-open-defects]").count(), 0);

  // The gate is open: the ticket is permitted.
  await takeStep(permitter, ticket, "许可");
  assert.equal(await permitter.locator("[data-unavailable=permit]").count(), 0);
  assert.match(await permitter.locator("body").textContent(), /已许可/);

  // The dashboard shows the month's first inspections and fits the phone.
  await manager.goto(server.base + "/projects/dashboard");
  assert.ok((await manager.locator("[data-chart=projects]").count()) === 1);
  await fits(manager, "the dashboard");
});
