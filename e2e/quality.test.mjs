// The monthly supervision report on a phone-sized screen, in the demo company: the safety auditor
// finds last month's county report in her to-do, writes the analysis, issues it (frozen and
// verified), prints it to A4 (a PDF of the print view from Chromium, one section a page after the
// contents), downloads the workbook and reissues it with a reason; the leader reads the city's
// reissued report and cannot write, and finds the report's operations in the API reference.
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

test("the auditor writes, issues, prints and reissues the monthly report; the leader reads it", async () => {
  const auditor = await as("demo.safety");
  await auditor.goto(server.base + "/");
  const todo = auditor.locator("[data-todo='home-todo-quality-report']", { hasText: "汉川供电中心" });
  assert.equal(await todo.count(), 1, "the county's report waits in the to-do");
  await todo.getByRole("link").click();
  await auditor.waitForURL(/\/quality\/reports\/\d+$/);
  const report = auditor.url();
  await fits(auditor, "the report");
  assert.equal(await auditor.locator("[data-report]").getAttribute("data-state"), "draft");
  assert.equal(await auditor.locator("[data-lines] tr[data-line]").count(), 17, "every indicator");
  assert.equal(await auditor.locator("[data-trend] polyline").count(), 17, "a trend chart per indicator");
  assert.equal(await auditor.locator("[data-toc] li").count(), 5, "the contents list the five sections");

  // The analysis, section by section, then issue.
  const form = auditor.locator("[data-texts-form]");
  await form.getByLabel("指标总览").fill("汉川供电中心本月工作票合格率未达目标，评价覆盖率回升。");
  await form.getByLabel("信息系统故障").fill("本月无新增故障。");
  await submit(auditor, form.getByRole("button", { name: "保存" }));
  assert.match(await auditor.locator("[data-text='overview']").textContent(), /评价覆盖率回升/);
  await submit(auditor, auditor.locator("[data-issue-form]").getByRole("button", { name: "签发" }));
  assert.equal(await auditor.locator("[data-report]").getAttribute("data-state"), "issued");
  assert.equal(await auditor.locator("[data-verified]").getAttribute("data-verified"), "true");
  assert.equal(await auditor.locator("[data-texts-form]").count(), 0, "an issued report takes no more text");

  // Printed on A4: the cover and contents, then one section a page.
  const pdf = await auditor.pdf({ preferCSSPageSize: true, printBackground: true });
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  assert.ok(pages >= 6, `${pages} pages`);

  // The workbook of the same report.
  const xlsx = await auditor.evaluate(async (href) => {
    const r = await fetch(href);
    return { type: r.headers.get("content-type"), size: (await r.arrayBuffer()).byteLength };
  }, report + "/xlsx");
  assert.match(xlsx.type, /spreadsheetml/);
  assert.ok(xlsx.size > 3000, `${xlsx.size} bytes`);

  // A reissue needs its reason and opens the next version as a draft.
  const reissue = auditor.locator("[data-reissue-form]");
  await reissue.getByLabel(/重新签发的原因/).fill("补录两张工作票评价");
  await submit(auditor, reissue.getByRole("button", { name: "重新签发" }));
  assert.equal(await auditor.locator("[data-report]").getAttribute("data-state"), "draft");
  assert.equal(await auditor.locator("[data-report]").getAttribute("data-version"), "2");
  assert.match(await auditor.locator("[data-reason]").textContent(), /补录两张工作票评价/);
  assert.equal(await auditor.locator("[data-versions] li").count(), 2);

  // The leader reads the city's reissued report: verified, with its reason; no forms.
  const leader = await as("demo.leader");
  await leader.goto(server.base + "/quality");
  await fits(leader, "the reports");
  const city = leader.locator("[data-reports] tr[data-state='issued']", { hasText: "孝感供电公司" });
  assert.equal(await city.count(), 1);
  await city.getByRole("link").click();
  await leader.waitForURL(/\/quality\/reports\/\d+$/);
  assert.equal(await leader.locator("[data-verified]").getAttribute("data-verified"), "true");
  assert.match(await leader.locator("[data-reason]").textContent(), /补录/);
  assert.equal(await leader.locator("[data-ranking] tr[data-rank]").count(), 3, "the three county centres ranked");
  assert.equal(await leader.locator("form").filter({ has: leader.locator("textarea") }).count(), 0);
  await fits(leader, "the city's report");

  // The API reference lists the report's operations, readable on the phone.
  await leader.goto(server.base + "/help/api");
  const issueOp = leader.locator("details[data-operation='POST /api/v1/quality/reports/{id}/issue']");
  assert.equal(await issueOp.count(), 1);
  await issueOp.locator("summary").click();
  assert.match(await issueOp.textContent(), /QualityIssuedOut/);
  await fits(leader, "the API reference");
});
