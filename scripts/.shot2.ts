import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveSite } from "../src/report/site";
async function main() {
  const { server, url } = await serveSite(process.argv[2]);
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "chr-")), { executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"], viewport: { width: 1280, height: 1000 } });
  const page = await ctx.newPage();
  await page.goto(url);
  await page.click("#gen-0000 button.decode");
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#gen-0000 .verdict")?.dataset.verdict === "exact");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: process.argv[3] });
  await ctx.close(); server.close();
}
main();
