// An outage for two tickets on a phone-sized screen, in the demo company: the customer manager
// requests it late (with the reason), the unit's leader approves it, the manager prints the
// hospital's outage notice and records it signed with its scan and the bank told by phone, the
// permit giver cuts supply; restoration is refused while either crew is still at work and
// succeeds once both leaders have reported work ended.
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


/** A local `datetime-local` value `hours` from now. */
function local(hours) {
  const d = new Date(Date.now() + hours * 3600_000 + 8 * 3600_000);
  return d.toISOString().slice(0, 16);
}

// A 1×1 PNG: the scan of the signed notice.
const SCAN = Buffer.from(
  "89504e470d0a1a0a0000000d494844520000000100000001080200000090775" +
    "3de0000000c49444154789c63f8ffff3f0005fe02fe0def46b80000000049454e44ae426082",
  "hex",
);

test("supply is restored only after both crews report work ended", async () => {
  // demo.workleader's crew starts a new ticket at 书院街 20 号.
  const leader = await as("demo.workleader");
  await leader.goto(server.base + "/tickets/new");
  await leader.getByLabel("票种").selectOption({ label: "低压工作票" });
  await leader.getByLabel("作业类型").selectOption("meter_replacement");
  await leader.getByLabel("户号").fill("0701000103");
  await leader.getByLabel("电压等级（kV）").fill("0.4");
  await leader.getByLabel("工作地点").fill("孝南区城站路 52 号计量箱");
  await leader.getByLabel("工作内容").fill("停电更换三相电能表");
  await leader.getByLabel("工作票签发人").fill("XG1011");
  await leader.getByLabel("工作许可人").fill("XG1013");
  await leader.getByLabel("工作班成员（不含负责人）").fill("XG1004");
  await leader.getByLabel("计划外作业原因").fill("客户申请停电换表");
  await leader.getByRole("button", { name: "保存草稿" }).click();
  await leader.waitForURL(/\/tickets\/\d+$/);
  const ticket = leader.url();
  const ticketId = ticket.split("/").pop();
  const unitManager = await as("demo.leader");
  await unitManager.goto(ticket);
  await unitManager.getByRole("button", { name: "批准计划外作业" }).click();
  await unitManager.waitForURL(/#plan$/);
  const issuer = await as("demo.issuer");
  const permitter = await as("demo.permitter");
  const crew = await as("demo.crew");
  await takeStep(issuer, ticket, "签发");
  await takeStep(leader, ticket, "接票");
  await takeStep(permitter, ticket, "许可");
  await takeStep(crew, ticket, "确认交底");
  await takeStep(leader, ticket, "开工");

  // The customer manager requests a temporary outage starting now: too late for 24 hours'
  // notice, so the reason is given and the request waits for the leader.
  const manager = await as("demo.manager");
  const request = async (lateReason) => {
    await manager.goto(server.base + "/outages");
    await manager.getByRole("link", { name: "申请停电" }).click();
    await manager.getByLabel("停电类型").selectOption("temporary");
    await manager.getByLabel("停电设备（线路、台区）").fill("10kV 城站线 3 号台区");
    await manager.getByLabel("开始时间").fill(local(0));
    await manager.getByLabel("结束时间").fill(local(2));
    await manager.getByLabel("停电原因及工作内容").fill("城站路表箱改造，停电更换计量装置");
    await manager.getByLabel("停电客户").fill("0701000101、0701000103");
    await manager.locator(`input[name=ticket][value="${ticketId}"]`).check();
    await manager.locator("label", { hasText: "东方红小区 3 栋一单元表箱" }).locator("input[name=ticket]").check();
    await manager.getByLabel("未按时限通知的原因").fill(lateReason);
    await manager.getByRole("button", { name: "提交申请" }).click();
  };
  await request("");
  // Refused beside the form, with everything typed kept.
  const refusal = await manager.locator(".form-errors .rule").first().textContent();
  assert.equal(await manager.getByLabel("停电设备（线路、台区）").inputValue(), "10kV 城站线 3 号台区");
  assert.match(refusal, /电力供应与使用条例/);
  assert.match(refusal, /24/);
  await request("表箱进水，须当日处理");
  await manager.waitForURL(/\/outages\/\d+$/);
  const outage = manager.url();
  assert.equal(await manager.locator("[data-outage-state]").getAttribute("data-outage-state"), "pending");
  const width = await manager.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `page is ${width}px wide`);

  // The request is on the leader's home page (his to-do list), and he approves it from there.
  const unitLeader = await as("demo.leader");
  await unitLeader.goto(server.base + "/");
  assert.ok((await unitLeader.locator("[data-todo='home-todo-outage-approve']").count()) >= 1);
  await takeStep(unitLeader, outage, "审批同意");
  assert.equal(await unitLeader.locator("[data-outage-state]").getAttribute("data-outage-state"), "scheduled");

  // Cutting before the notices are in is refused.
  await permitter.goto(outage);
  await permitter.getByRole("button", { name: "确认停电", exact: true }).click();
  assert.match(await permitter.locator(".form-errors .rule").first().textContent(), /签收/);

  // The manager prints the hospital's notice, records it signed with the scan, and the bank told by phone.
  await manager.goto(outage);
  const hospital = manager.locator("[data-customer='0701000101']");
  await hospital.getByRole("link", { name: "打印停电通知书" }).click();
  assert.match(await manager.locator("[data-outage-notice]").first().textContent(), /孝感市中心医院/);
  assert.equal(await manager.locator("[data-outage-notice]").count(), 2, "the customer's copy and the receipt");
  await manager.goto(outage);
  await hospital.getByLabel("通知方式").selectOption("signed");
  await hospital.getByLabel("客户签收人").fill("刘主任");
  await hospital.getByLabel("签收扫描件").setInputFiles({ name: "签收.png", mimeType: "image/png", buffer: SCAN });
  await hospital.getByLabel(/已核对：/).check();
  await submit(manager, hospital.getByRole("button", { name: "登记通知" }));
  await manager.waitForURL(/#customers$/);
  assert.equal(await manager.locator("[data-customer='0701000101']").getAttribute("data-ready"), "true");
  const bank = manager.locator("[data-customer='0701000103']");
  await bank.getByLabel("通知方式").selectOption("phone");
  await bank.getByLabel(/已核对：/).check();
  await submit(manager, bank.getByRole("button", { name: "登记通知" }));
  assert.equal(await manager.locator("[data-customer='0701000103']").getAttribute("data-ready"), "true");

  await takeStep(permitter, outage, "确认停电");
  assert.equal(await permitter.locator("[data-outage-state]").getAttribute("data-outage-state"), "cut");

  // Both crews are still at work: restoration is refused, naming the rule.
  await permitter.getByRole("button", { name: "确认送电", exact: true }).click();
  let refused = await permitter.locator(".form-errors .rule").first().textContent();
  assert.match(refused, /约时/);
  assert.match(refused, /安全工作规程/);

  // One leader reports work ended: still refused, for the other ticket.
  await takeStep(leader, ticket, "工作终结");
  await permitter.goto(outage);
  await permitter.getByRole("button", { name: "确认送电", exact: true }).click();
  refused = await permitter.locator(".form-errors .rule").first().textContent();
  assert.match(refused, /约时/);

  // The second leader reports work ended from his ticket's page; now supply is restored.
  const leader2 = await as("demo.workleader2");
  await leader2.goto(outage);
  await leader2.locator("[data-ticket]", { hasText: "东方红小区" }).getByRole("link").click();
  await leader2.waitForURL(/\/tickets\/\d+$/);
  await takeStep(leader2, leader2.url(), "工作终结");
  await takeStep(permitter, outage, "确认送电");
  assert.equal(await permitter.locator("[data-outage-state]").getAttribute("data-outage-state"), "restored");
  assert.match(await permitter.locator("[data-restored-at]").textContent(), /确认人/);
  assert.match(await permitter.locator("[data-refusals]").textContent(), /2/);

  // The unit's week shows today's outages and tickets, and fits the phone.
  await manager.goto(server.base + "/plans/week");
  assert.ok((await manager.locator(".today [data-week-outage]").count()) >= 1);
  assert.ok((await manager.locator(".today [data-week-ticket]").count()) >= 1);
  const weekWidth = await manager.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(weekWidth <= 392, `week is ${weekWidth}px wide`);
});
