// The same pages on a desktop screen (1280×800), in the demo company: a ticket form refused for a
// 工号 not in the register keeps everything typed and names the field beside it; the crew field
// picks several people one after another; the issuer sees why 签发 is not offered yet; the log
// auditor filters the trail by an action's words and exports it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, desktopAs, submit } from "./harness.mjs";

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

test("on a desktop a refused form keeps what was typed, people are picked and signing is confirmed", async () => {
  const leader = await desktopAs(browser, server.base, "demo.workleader");
  await leader.goto(server.base + "/tickets/new");
  await leader.getByLabel("票种").selectOption({ label: "低压工作票" });
  await leader.getByLabel("作业类型").selectOption("meter_install");
  await leader.getByLabel("户号").fill("4309990002");
  await leader.getByLabel("电压等级（kV）").fill("0.4");
  await leader.getByLabel("工作地点").fill("孝南区书院街 22 号计量箱");
  await leader.getByLabel("工作内容").fill("更换单相电能表");
  await leader.getByLabel("工作票签发人").fill("ZZ9");
  await leader.getByLabel("工作许可人").fill("XG1013");
  // The crew field picks one person after another: the list offers the second after the first.
  const crew = leader.getByLabel("工作班成员（不含负责人）");
  await crew.fill("XG1004 XG100");
  const option = leader.locator('datalist option[value^="XG1004 XG100"]').first();
  await option.waitFor({ state: "attached" });
  await crew.fill("XG1004 XG1005");
  await leader.getByLabel("计划外作业原因").fill("客户报修");
  await leader.getByRole("button", { name: "保存草稿" }).click();
  // Refused beside the form: the field named, everything typed still there.
  const errors = leader.locator(".form-errors");
  await errors.waitFor();
  assert.match(await errors.textContent(), /ZZ9/);
  assert.equal(await leader.locator(".field-error").count() >= 1, true);
  assert.equal(await leader.getByLabel("工作地点").inputValue(), "孝南区书院街 22 号计量箱");
  assert.equal(await crew.inputValue(), "XG1004 XG1005");
  await leader.getByLabel("工作票签发人").fill("XG1011");
  await leader.getByRole("button", { name: "保存草稿" }).click();
  await leader.waitForURL(/\/tickets\/\d+$/);

  // The issuer is not offered 签发 while the rules refuse it, and reads why.
  const issuer = await desktopAs(browser, server.base, "demo.issuer");
  await issuer.goto(leader.url());
  assert.match(await issuer.locator("[data-unavailable=issue]").textContent(), /计划外作业/);

  // The log auditor filters the trail by an action's words and exports it.
  const auditor = await desktopAs(browser, server.base, "demo.auditor");
  await auditor.goto(server.base + "/audit");
  await auditor.getByLabel("动作").selectOption({ label: "登录" });
  await submit(auditor, auditor.getByRole("button", { name: "查询" }));
  assert.match(await auditor.locator("td[data-action]").first().textContent(), /登录/);
  const download = auditor.waitForEvent("download");
  await auditor.getByRole("link", { name: "导出 .xlsx" }).click();
  assert.match((await download).suggestedFilename(), /audit\.xlsx/);
  const width = await auditor.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 1280, `page is ${width}px wide`);
});
