/**
 * Reconcile benchmark: one apply (server-side apply of every rendered object, then the
 * prune lists) of 200 pools against the fake API server over loopback HTTP with the real
 * @kubernetes/client-node, then the same again (nothing changed: every apply a no-op).
 * Target: < 10 s for 200 pools, and memory flat in pools (heap after 200 pools about what
 * it is after 50). The fake server runs in a worker thread, so the heap measured is the
 * controller's.
 */
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { applyPools } from "../controller/kube/apply.js";
import { type Policy, parseModelPoolObject } from "../controller/policy/index.js";
import { packageRoot } from "../controller/util/package-root.js";

/**
 * Pool `i` of the run: Spot + Karpenter + KEDA, the render with the most objects, loaded
 * the way the controller loads a custom resource (an object, no YAML text).
 */
function poolAt(i: number): Policy {
  const doc = {
    apiVersion: "tritonscale.dev/v1alpha1",
    kind: "ModelPool",
    metadata: { name: `pool-${String(i).padStart(3, "0")}`, namespace: `team-${i % 10}` },
    spec: {
      models: [{ name: "yolov8s", template: "yolov8-onnx", imageSize: 640, classes: 80 }],
      slo: { latencyP99Ms: 85 },
      scaling: { minReplicas: 0, maxReplicas: 8 },
      capacity: { provider: "karpenter", spot: { enabled: true, onDemandBase: 1 } },
    },
  };
  const r = parseModelPoolObject(doc, `modelpool ${doc.metadata.namespace}/${doc.metadata.name}`);
  if (!r.policy) throw new Error(r.problems.map((p) => p.message).join("; "));
  return r.policy;
}

function heapMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** One reconcile of pools [from, to): applyPools, `concurrency` pools in flight. */
async function reconcile(api: KubernetesObjectApi, from: number, to: number, concurrency: number) {
  const pools = [];
  for (let i = from; i < to; i++) {
    const policy = poolAt(i);
    pools.push({
      policy,
      owner: {
        apiVersion: "tritonscale.dev/v1alpha1",
        kind: "ModelPool",
        name: policy.metadata.name,
        namespace: policy.metadata.namespace,
        uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      },
    });
  }
  const outcomes = await applyPools(api, pools, { concurrency });
  let objects = 0;
  for (const [key, o] of outcomes) {
    if (!o.ok) throw new Error(`pool ${key}: ${o.error.message}`);
    objects += o.report.applied.length;
  }
  return objects;
}

/** Prints the reconcile benchmark; `quick` runs 40 pools. */
export async function printApplyBench(quick: boolean): Promise<void> {
  const pools = quick ? 40 : 200;
  const concurrency = 16;
  const worker = new Worker(join(packageRoot, "dist", "bench", "fake-kube-worker.js"));
  const ask = (m: object) =>
    new Promise<{ url?: string; objects?: number; rv?: string }>((resolve) => {
      worker.once("message", resolve);
      if (Object.keys(m).length > 0) worker.postMessage(m);
    });
  const { url } = await ask({});
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server: url!, skipTLSVerify: true }],
    users: [{ name: "fake", token: "t" }],
    contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
    currentContext: "fake",
  });
  const api = KubernetesObjectApi.makeApiClient(kc);
  console.log(
    `\n# Reconcile of ${pools} pools against the fake API server (real client, loopback HTTP, ${concurrency} pools in flight)`,
  );
  // Warm-up: discovery caches and JIT, on a pool outside the measured ranges.
  await reconcile(api, 2 * pools, 2 * pools + 1, 1);
  /** One reconcile of [from, to): wall ms, objects, peak and retained heap growth (MB). */
  const measure = async (from: number, to: number) => {
    const base = heapMb();
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed / 2 ** 20 - base);
    }, 100);
    const t0 = performance.now();
    const objects = await reconcile(api, from, to, concurrency);
    const ms = performance.now() - t0;
    clearInterval(timer);
    return { ms, objects, peak, retained: heapMb() - base };
  };
  // A quarter of the pools first (other names), then all of them: memory should not grow
  // with the number of pools (each pool's work is dropped when it is applied).
  const small = await measure(pools, pools + pools / 4);
  const full = await measure(0, pools);
  const noop = await measure(0, pools);
  const stored = await ask({ count: true });
  worker.postMessage({ stop: true });
  await new Promise((r) => worker.once("exit", r));
  console.log(
    "pools   objects   reconcile s   ms/pool   re-apply (no-op) s   peak heap Δ MB   retained MB",
  );
  for (const [n, m] of [
    [pools / 4, small],
    [pools, full],
  ] as const) {
    console.log(
      `${String(n).padStart(5)}   ${String(m.objects).padStart(7)}   ${(m.ms / 1000).toFixed(2).padStart(11)}   ${(m.ms / n).toFixed(1).padStart(7)}   ${(n === pools ? (noop.ms / 1000).toFixed(2) : "-").padStart(18)}   ${m.peak.toFixed(1).padStart(14)}   ${m.retained.toFixed(1).padStart(11)}`,
    );
  }
  const ratio = Math.max(full.peak, 0.5) / Math.max(small.peak, 0.5);
  console.log(
    `target < 10 s for 200 pools: ${quick ? "not measured (--quick)" : full.ms / 1000 < 10 ? "met" : "MISS"} (${(full.ms / 1000).toFixed(2)} s for ${pools} pools); memory flat in pools: ${ratio < 2 ? "met" : "MISS"} (peak heap ${pools} pools / ${pools / 4} pools = ${ratio.toFixed(2)}×, linear would be 4×); the server holds ${stored.objects} objects`,
  );
}
