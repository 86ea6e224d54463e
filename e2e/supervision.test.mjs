// On-site supervision on a phone, in the demo company: a meter change at the hospital (10 kV, an
// important customer: risk grade 2) is refused 开工 until the unit leader has recorded his arrival
// from his phone (with the phone's position); the work starts; the safety auditor records a
// violation by the crew member with a photo, which suspends his field roles by points; after his
// review meeting (说清楚), retraining and a passed exam he is re-admitted.
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

/** A phone that lets the page read its position (the hospital's), signed in as `username`. */
const phoneWithPosition = (username) =>
  phoneAs(browser, server.base, username, {
    geolocation: { latitude: 30.9245, longitude: 113.9166, accuracy: 12 },
    permissions: ["geolocation"],
  });


// A 1×1 PNG: the photo of the site.
const PHOTO = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

test("a manager arrives, the work starts, a violation suspends the worker until he is re-admitted", async () => {
  // The work leader fills in a meter change at the hospital: 10 kV and an important customer.
  const leader = await as("demo.workleader");
  await leader.goto(server.base + "/tickets/new");
  await leader.getByLabel("票种").selectOption({ label: "配电第二种工作票" });
  await leader.getByLabel("作业类型").selectOption("meter_replacement");
  await leader.getByLabel("户号").fill("0701000101");
  await leader.getByLabel("电压等级（kV）").fill("10");
  await leader.getByLabel("工作地点").fill("孝南区广场街 6 号医院配电室计量柜");
  await leader.getByLabel("工作内容").fill("更换高压计量电能表，不停电");
  await leader.getByLabel("工作票签发人").fill("XG1011");
  await leader.getByLabel("工作许可人").fill("XG1013");
  await leader.getByLabel("工作班成员（不含负责人）").fill("XG1004");
  await leader.getByLabel("计划外作业原因").fill("医院计量异常，当天处理");
  await leader.getByRole("button", { name: "保存草稿" }).click();
  await leader.waitForURL(/\/tickets\/\d+$/);
  const url = leader.url();
  assert.equal(await leader.locator("[data-risk]").getAttribute("data-risk"), "2");
  assert.equal(await leader.locator("[data-onsite-required]").getAttribute("data-onsite-required"), "leader");

  const manager = await phoneWithPosition("demo.leader");
  await manager.goto(url);
  await manager.getByRole("button", { name: "批准计划外作业" }).click();
  await manager.waitForURL(/#plan$/);
  const issuer = await as("demo.issuer");
  await takeStep(issuer, url, "签发");
  await takeStep(leader, url, "接票");
  const permitter = await as("demo.permitter");
  await takeStep(permitter, url, "许可");
  const crew = await as("demo.crew");
  await takeStep(crew, url, "确认交底");

  // 开工 waits for the leader on site, in words, with the rule in the administrators' fold.
  await leader.goto(url);
  const refusal = await leader.locator("[data-unavailable=start]").textContent();
  assert.match(refusal, /到岗/);
  assert.match(refusal, /SUPERVISION_ONSITE/);

  // The leader, on site, records his arrival from his phone: position and a photo.
  await manager.goto(url);
  await manager.locator("[data-geo-status]").filter({ hasText: "已获取手机位置" }).waitFor();
  await manager.locator('#onsite input[name="photo"]').setInputFiles({ name: "site.png", mimeType: "image/png", buffer: PHOTO });
  await manager.getByRole("button", { name: "到岗登记" }).click();
  await manager.waitForURL(/#onsite$/);
  assert.match(await manager.locator("[data-stay]").first().textContent(), /demo\.leader/);
  assert.equal(await manager.locator("[data-stay] [data-position]").count(), 1);
  assert.equal(await manager.locator("[data-stay] [data-stay-photo]").count(), 1, "the photo taken on arrival");
  const width = await manager.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `page is ${width}px wide`);

  await takeStep(leader, url, "开工");
  assert.equal(await leader.locator("[data-state]").getAttribute("data-state"), "started");

  // The safety auditor sees the crew member working without his safety belt: a violation
  // recorded on the phone, with the photo, from the ticket.
  const auditor = await as("demo.safety");
  await auditor.goto(url);
  await auditor.locator("[data-violation-here]").click();
  await auditor.getByLabel("人员工号").fill("XG1004");
  await auditor.getByLabel("地点").fill("医院配电室");
  await auditor.getByLabel("对照违章清单（可选）").selectOption("YZ-06");
  await auditor.getByLabel("严重程度").selectOption("grave");
  await auditor.getByLabel("违章情况").fill("登高更换计量表时未系安全带");
  await auditor.getByLabel("证据照片（可选）").setInputFiles({ name: "violation.png", mimeType: "image/png", buffer: PHOTO });
  await auditor.getByLabel("整改责任人（客户违章可不填）").fill("XG1007");
  await auditor.getByRole("button", { name: "登记违章" }).click();
  await auditor.waitForURL(/\/violations\/\d+$/);
  const violation = auditor.url();
  assert.equal(await auditor.locator("[data-photos] img").count(), 1);
  assert.ok(await auditor.locator("[data-suspended]").isVisible(), "12 points suspend him");
  assert.match(await auditor.locator("[data-review-pending]").textContent(), /说清楚/);

  // His field roles answer no: the ticket's people check names the suspension.
  await leader.goto(url);
  assert.match(await leader.locator("#people").textContent(), /暂停现场作业资格/);

  // Re-admission waits for the review meeting, then is recorded after the exam.
  await auditor.goto(violation);
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  const fillReadmission = async () => {
    await auditor.getByLabel("重新培训日期").fill(today);
    await auditor.getByLabel("考试日期").fill(today);
    await auditor.getByLabel("考试成绩（可选）").fill("88");
    await auditor.getByLabel("考试合格").check();
  };
  await fillReadmission();
  await auditor.getByRole("button", { name: "办理再准入" }).click();
  assert.match(await auditor.locator(".form-errors .rule").first().textContent(), /说清楚/);
  await auditor.goto(violation);
  await auditor.getByLabel("“说清楚”情况（时间、参加人员、责任认定、整改措施）").fill("本人及班长到安全管理室说清楚，班组通报");
  await auditor.getByRole("button", { name: "登记“说清楚”" }).click();
  await auditor.waitForURL(/#review$/);
  await fillReadmission();
  await auditor.getByRole("button", { name: "办理再准入" }).click();
  await auditor.waitForURL(/#standing$/);
  assert.equal(await auditor.locator("[data-suspended]").count(), 0);
  assert.equal(await auditor.locator("[data-points]").getAttribute("data-points"), "0");
  await leader.goto(url);
  assert.doesNotMatch(await leader.locator("#people").textContent(), /暂停现场作业资格/);

  // The month's figures show it.
  await manager.goto(server.base + "/violations");
  assert.match(await manager.locator("[data-chart=severity]").textContent(), /特别严重违章/);
  assert.ok(Number(await manager.locator('[data-kpi="count"]').textContent()) >= 1);
});
