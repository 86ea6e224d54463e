// A work ticket from 填写 to 终结 on a phone-sized screen, in the demo company: the work leader
// fills it in as unplanned work with its reason, the issuer is refused until the unit's manager
// approves it from his home page, the issuer issues, the leader receives, the permit giver permits, the leader is
// refused the start until the crew member acknowledged the briefing, then work starts, ends,
// and the permit giver closes it once the safety measures are restored. The auditor evaluates.
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

/** A phone-sized page signed in as the demo account `username`. */
const as = (username) => phoneAs(browser, server.base, username);


test("a ticket goes from draft to closed with the briefing acknowledged", async () => {
  // The work leader fills in a low-voltage ticket; the hazards come from the template.
  const leader = await as("demo.workleader");
  await leader.goto(server.base + "/tickets");
  await leader.getByRole("link", { name: "填写新票" }).click();
  await leader.getByLabel("票种").selectOption({ label: "低压工作票" });
  await leader.getByLabel("作业类型").selectOption("meter_install");
  await leader.getByLabel("户号").fill("4309990001");
  await leader.getByLabel("电压等级（kV）").fill("0.4");
  await leader.getByLabel("工作地点").fill("孝南区书院街 20 号计量箱");
  await leader.getByLabel("工作内容").fill("新装单相电能表并接电");
  await leader.getByLabel("工作票签发人").fill("XG1011");
  // The picker says who that is and whether he may issue today.
  const issuerOption = leader.locator('datalist option[value="XG1011"]');
  await issuerOption.waitFor({ state: "attached" });
  assert.match(await issuerOption.getAttribute("label"), /今日可担任工作票签发人/);
  await leader.getByLabel("工作许可人").fill("XG1013");
  await leader.getByLabel("工作班成员（不含负责人）").fill("XG1004");
  await leader.getByLabel("关联营销工单").fill("WO-E2E-1:装表接电");
  // Not in this week's plan: unplanned work, with its reason.
  assert.equal(await leader.getByLabel("作业计划项目").inputValue(), "");
  await leader.getByLabel("计划外作业原因").fill("客户报修，当天处理");
  await leader.getByRole("button", { name: "保存草稿" }).click();
  await leader.waitForURL(/\/tickets\/\d+$/);
  const url = leader.url();
  assert.equal(await leader.locator("[data-state]").getAttribute("data-state"), "draft");
  assert.match(await leader.locator("#hazards").textContent(), /误碰带电部位触电/);
  // The page fits the phone: nothing wider than the screen.
  const width = await leader.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `page is ${width}px wide`);

  // Issuing waits for the unit's manager, who approves the unplanned work from the ticket.
  const issuer = await as("demo.issuer");
  // 签发 is not offered while the rules refuse it: the page says why, in words.
  await issuer.goto(url);
  assert.equal(await issuer.locator("summary[data-step=issue]").count(), 0);
  assert.match(await issuer.locator("[data-unavailable=issue]").textContent(), /计划外作业/);
  const manager = await as("demo.leader");
  await manager.goto(server.base + "/");
  await manager.locator('[data-todo="home-todo-ticket-unplanned"]', { hasText: "书院街 20 号" }).getByRole("link").click();
  await manager.getByRole("button", { name: "批准计划外作业" }).click();
  await manager.waitForURL(/\/tickets\/\d+#plan$/);
  assert.match(await manager.locator("[data-approved]").textContent(), /demo\.leader/);
  await takeStep(issuer, url, "签发");
  await takeStep(leader, url, "接票");
  const permitter = await as("demo.permitter");
  await takeStep(permitter, url, "许可");

  // Starting before the crew acknowledged is refused, naming the rule and the person.
  await leader.goto(url);
  const refusal = await leader.locator("[data-unavailable=start]").textContent();
  assert.match(refusal, /TICKET_BRIEFING/);
  assert.match(refusal, /XG1004/);
  assert.match(refusal, /交底/);

  const crew = await as("demo.crew");
  await crew.goto(url);
  assert.match(await crew.locator("#steps").textContent(), /危险点|交底内容/);
  await takeStep(crew, url, "确认交底");
  assert.equal(await crew.locator("[data-ack]").first().getAttribute("data-ack"), "yes");

  await takeStep(leader, url, "开工");
  assert.equal(await leader.locator("[data-state]").getAttribute("data-state"), "started");
  await takeStep(leader, url, "工作终结");

  // 工作票终结 opens its panel: what is signed, the measures restored, the confirmation.
  await permitter.goto(url);
  await permitter.locator("summary[data-step=close]").click();
  assert.match(await permitter.locator("#sign-close").textContent(), /您将以.*的名义签名/);
  await permitter.getByLabel("全部安全措施已恢复，接地线已拆除").check();
  await submit(permitter, permitter.getByRole("button", { name: "确认工作票终结" }));
  assert.equal(await permitter.locator("[data-state]").getAttribute("data-state"), "closed");
  const signatures = await permitter.locator("#signatures").textContent();
  for (const step of ["签发", "接票", "许可", "确认交底", "开工", "工作终结", "工作票终结"]) {
    assert.match(signatures, new RegExp(step));
  }

  // The safety auditor evaluates it; the month's pass rate counts it.
  const auditor = await as("demo.safety");
  await auditor.goto(url);
  await auditor.getByLabel("合格", { exact: true }).check();
  // The evaluation is a signature: its summary, the box ticked, then signed.
  assert.match(await auditor.locator("#evaluation").textContent(), /您将以.*的名义签名/);
  await auditor.getByLabel(/我已核对这张工作票/).check();
  await auditor.getByRole("button", { name: "确认评价并签名" }).click();
  await auditor.waitForURL(/#evaluation$/);
  assert.equal(await auditor.locator("[data-verdict]").getAttribute("data-verdict"), "pass");
  await auditor.goto(server.base + "/tickets/evaluation");
  assert.match(await auditor.locator("[data-stats]").textContent(), /%/);

  // The print sheet carries the signatures.
  await leader.goto(url + "/print");
  assert.match(await leader.locator(".ticket-sheet").textContent(), /XG1011|签发/);
});
