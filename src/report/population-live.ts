// The live view of a running population (`neural-quine evolve --serve`): the report is written again
// into a fresh folder after each generation, and served on 127.0.0.1 from the newest one. Each HTML
// page gets a few lines that ask /live.json for the site's version every POLL_MS and reload on a new one.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { errorMessage } from "../format";
import { isPopulationStore } from "./population";
import { listen, siteFile, TYPES, writeSite } from "./site";

export const POLL_MS = 2000;

/** The script added to every served page: reload when the site has a newer version than the page. */
const pollScript = (version: number): string => `<script>(() => { const shown = ${version};
  setInterval(() => fetch("/live.json", { cache: "no-store" }).then((r) => r.json()).then((live) => { if (live.version !== shown) location.reload(); }).catch(() => {}), ${POLL_MS});
})();</script>`;

const WAITING = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>neural-quine population</title><link rel="icon" href="data:,"></head>
<body><p>Waiting for the first generation…</p></body></html>`;

export interface LiveReport {
  url: string;
  version: () => number; // how many times the report was written
  /** Writes the report again (calls are queued, one at a time); a failure is passed to `onError` and the previous report stays. */
  update: () => Promise<void>;
  close: () => Promise<void>;
}

/** Serves the report of the population store `dir` on 127.0.0.1:`port` (0: any free port): what it holds already, or a waiting page. */
export async function serveLive(dir: string, port = 0, onError: (message: string) => void = () => {}): Promise<LiveReport> {
  const base = mkdtempSync(join(tmpdir(), "neural-quine-live-"));
  let version = 0;
  let current = join(base, "0");
  mkdirSync(current);
  writeFileSync(join(current, "index.html"), WAITING);
  const server: Server = createServer((request, response) => {
    if (request.url === "/live.json") {
      response.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" }).end(JSON.stringify({ version }));
      return;
    }
    const file = siteFile(current, request.url);
    if (typeof file === "number") {
      response.writeHead(file).end(file === 404 ? "not found" : undefined);
      return;
    }
    const html = extname(file) === ".html";
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", ...(html ? { "cache-control": "no-store" } : {}) });
    response.end(html ? readFileSync(file, "utf8").replace(/<\/body>/, `${pollScript(version)}</body>`) : readFileSync(file));
  });
  const { url } = await listen(server, port);
  let queue = Promise.resolve();
  const write = async (): Promise<void> => {
    const next = join(base, String(version + 1));
    try {
      await writeSite(dir, next);
    } catch (error) {
      onError(`the live report could not be written: ${errorMessage(error)}`);
      rmSync(next, { recursive: true, force: true });
      return;
    }
    const previous = current;
    current = next;
    version++;
    // Kept one round longer, so that a page still loading its files from it finds them.
    const old = join(base, String(version - 2));
    if (old !== previous) rmSync(old, { recursive: true, force: true });
  };
  const update = (): Promise<void> => (queue = queue.then(write));
  if (isPopulationStore(dir)) void update(); // a resumed run: its generations so far
  return {
    url,
    version: () => version,
    update,
    close: async () => {
      await queue;
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections(); // the pages' keep-alive connections
      await closed;
      rmSync(base, { recursive: true, force: true });
    },
  };
}
