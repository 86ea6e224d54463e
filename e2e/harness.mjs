// Shared by the browser tests: a real gridsafe server on a fresh SQLite file, and Debian's
// chromium driven by playwright-core (never a downloaded browser).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const here = new URL(".", import.meta.url).pathname;

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on("error", fail);
  });
}

/** Starts gridsafe (with the demo company when `demo` is set); resolves once /readyz answers. */
export async function startServer({ demo = false } = {}) {
  const bin = process.env.GRIDSAFE_BIN ?? resolve(here, "../target/debug/gridsafe");
  const dir = mkdtempSync(join(tmpdir(), "gridsafe-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const database = `sqlite://${dir}/gridsafe.db`;
  const env = { ...process.env, GRIDSAFE_LANG: "zh-CN", GRIDSAFE_AUDIT__SIGNING_KEY_PATH: `${dir}/audit-signing.key` };
  if (demo) {
    const filled = spawnSync(bin, ["--database-url", database, "demo", "--no-serve"], { cwd: dir, env, encoding: "utf8" });
    if (filled.status !== 0) throw new Error(`gridsafe demo failed:\n${filled.stdout}${filled.stderr}`);
  }
  let log = "";
  const child = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, "--database-url", database], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gridsafe exited early:\n${log}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`gridsafe did not become ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The first start prints the administrator's one-time password on the console.
  const password = /初始密码：(\S+)/.exec(log)?.[1] ?? /initial password: (\S+)/.exec(log)?.[1];
  return {
    base,
    adminPassword: password,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** Every demo account's password (`gridsafe demo`). */
export const DEMO_PASSWORD = "Demo-2026-gs";

/** A phone-sized page of `browser`, signed in at `base` as the demo account `username`; `phone`
 * adds context options (a position the page may read, say). */
export async function phoneAs(browser, base, username, phone = {}) {
  return signedIn(browser, base, username, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, ...phone });
}

/** A desktop-sized page of `browser` (1280×800), signed in as the demo account `username`. */
export async function desktopAs(browser, base, username) {
  return signedIn(browser, base, username, { viewport: { width: 1280, height: 800 } });
}

async function signedIn(browser, base, username, options) {
  const context = await browser.newContext({ locale: "zh-CN", ...options });
  const page = await context.newPage();
  await page.goto(base + "/login");
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
  return page;
}

/** Clicks `button` (a form's submit) and waits until the page it leads to has loaded. The page
 * script sends forms itself (a refusal stays beside the form), so a form that comes back to the
 * same page reloads it: waiting for its URL would not wait for the new page. */
export async function submit(page, button) {
  const loaded = page.waitForEvent("load");
  await button.click();
  await loaded;
}

/** Takes the step `label` (签发, 许可, 审批同意…) on the page at `url`: a ticket's signature
 * opens its panel (what is signed, the password when it asks), then is confirmed; any other
 * step is its button. */
export async function takeStep(page, url, label, { password } = {}) {
  await page.goto(url);
  const panel = page.locator("details.sign").filter({ has: page.locator("summary", { hasText: new RegExp(`^${label}$`) }) });
  if (await panel.count()) {
    await panel.locator("summary").click();
    if (password) await panel.getByLabel("登录密码").fill(password);
    await submit(page, panel.getByRole("button", { name: `确认${label}` }));
  } else {
    await submit(page, page.getByRole("button", { name: label, exact: true }));
  }
}
