import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveSite } from "../src/report/site";
async function main() {
  const { server, url } = await serveSite(process.argv[2]);
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chr-")), { executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"], viewport: { width: 1280, height: 1000 } });
  const page = await browser.newPage();
  page.on("console", (m) => console.log("console:", m.text()));
  page.on("pageerror", (e) => console.log("pageerror:", e.message));
  await page.goto(url);
  const sel = process.argv[4] ?? "#gen-0000";
  const btn = page.locator(`${sel} button.decode`);
  if (await btn.count()) { await btn.click(); await page.waitForFunction((s) => { const v = document.querySelector(`${s} .verdict`) as HTMLElement; return v.dataset.verdict !== "running"; }, sel, { timeout: 60000 }); console.log(await page.locator(`${sel} .verdict`).textContent()); }
  await page.screenshot({ path: process.argv[3], fullPage: process.argv[5] === "full" });
  await browser.close(); server.close();
}
main();
