/**
 * The fake API server in a worker thread for bench/apply.ts, so its store does not count
 * in the main thread's heap (what the benchmark measures is the controller side).
 */
import { parentPort } from "node:worker_threads";
import { startFakeKube } from "../test/support/fake-kube/index.js";

const fake = await startFakeKube({ logRequests: false, historyLimit: 1000 });
parentPort!.postMessage({ url: fake.url });
parentPort!.on("message", async (m: { stop?: boolean; count?: boolean }) => {
  if (m.count)
    parentPort!.postMessage({ objects: fake.inventory().length, rv: fake.resourceVersion });
  if (m.stop) {
    await fake.close();
    parentPort!.close();
  }
});
