import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { expect } from "chai";
import { stringify } from "yaml";
import { createInputReader } from "../../controller/cli/read-input.js";
import type { Problem } from "../../controller/diagnostics/problem.js";
import { PoolFiles } from "../../controller/kube/pool-files.js";
import {
  type InformerLike,
  ModelPoolInformer,
  modelPoolPath,
} from "../../controller/kube/pool-informer.js";
import type { PoolHandler } from "../../controller/kube/pool-source.js";
import type { InputReader, PathKind } from "../../controller/util/input.js";
import { ManualClock, settle } from "../support/manual-clock.js";
import { poolDocument } from "../support/pools.js";
import { until } from "../support/until.js";

/** A handler that writes down each callback as one line. */
function recorder(): PoolHandler & { log: string[]; problems: Problem[][] } {
  const log: string[] = [];
  const problems: Problem[][] = [];
  return {
    log,
    problems,
    added: (p, policy, meta) =>
      log.push(
        `added ${p.namespace}/${p.name} max=${policy.spec.scaling.maxReplicas} gen=${meta.generation ?? "-"}`,
      ),
    changed: (p, policy, meta) =>
      log.push(
        `changed ${p.namespace}/${p.name} max=${policy.spec.scaling.maxReplicas} gen=${meta.generation ?? "-"}`,
      ),
    invalid: (p, ps) => {
      problems.push([...ps]);
      log.push(`invalid ${p.namespace}/${p.name} ${ps.map((x) => x.path).join(",")}`);
    },
    removed: (p) => log.push(`removed ${p.namespace}/${p.name}`),
  };
}

/** A ModelPool as the API server returns it. */
function resource(
  name: string,
  maxReplicas: number | string,
  generation: number,
  extra: Record<string, unknown> = {},
): KubernetesObject {
  const doc = poolDocument({ scaling: { maxReplicas } });
  return {
    ...doc,
    metadata: {
      name,
      namespace: "vision",
      uid: `uid-${name}`,
      generation,
      resourceVersion: String(generation * 10 + Object.keys(extra).length),
      creationTimestamp: "2027-01-01T00:00:00Z",
      managedFields: [{ manager: "kubectl" }],
    },
    ...extra,
  } as unknown as KubernetesObject;
}

/** An informer driven by hand that, like the client's, reports stop() as an AbortError. */
class FakeInformer implements InformerLike {
  starts = 0;
  stops = 0;
  failNextStarts = 0;
  private readonly cbs = new Map<string, ((x: never) => void)[]>();
  on(verb: string, cb: (x: never) => void): void {
    this.cbs.set(verb, [...(this.cbs.get(verb) ?? []), cb]);
  }
  emit(verb: "add" | "update" | "delete" | "error", x: unknown): void {
    for (const cb of this.cbs.get(verb) ?? []) (cb as (x: unknown) => void)(x);
  }
  async start(): Promise<void> {
    this.starts++;
    if (this.failNextStarts > 0) {
      this.failNextStarts--;
      this.emit("error", Object.assign(new Error("Internal Server Error"), { statusCode: 500 }));
    }
  }
  async stop(): Promise<void> {
    this.stops++;
    const e = new Error("The operation was aborted.");
    e.name = "AbortError";
    this.emit("error", e);
  }
}

describe("ModelPool informer", () => {
  it("watches the namespaced and cluster-wide paths of the CRD", () => {
    expect(modelPoolPath("vision")).to.equal(
      "/apis/tritonscale.dev/v1alpha1/namespaces/vision/modelpools",
    );
    expect(modelPoolPath()).to.equal("/apis/tritonscale.dev/v1alpha1/modelpools");
  });

  function setup(namespaces?: string[]) {
    const clock = new ManualClock();
    const handler = recorder();
    const informers = new Map<string, FakeInformer>();
    const restarts: number[] = [];
    const source = new ModelPoolInformer({
      createInformer: (ns) => {
        const f = new FakeInformer();
        informers.set(ns ?? "*", f);
        return f;
      },
      ...(namespaces ? { namespaces } : {}),
      handler,
      clock,
      random: () => 0.999999,
      onRestart: (_ns, _e, delay) => restarts.push(delay),
    });
    return { clock, handler, informers, source, restarts };
  }

  it("loads each resource through the policy loader: added, changed only when the spec changes, removed", async () => {
    const { handler, informers, source } = setup();
    await source.start();
    const f = informers.get("*")!;
    f.emit("add", resource("yolo", 8, 1));
    f.emit("update", resource("yolo", 8, 1, { status: { desiredReplicas: 3 } }));
    f.emit("update", resource("yolo", 12, 2));
    f.emit("delete", resource("yolo", 12, 2));
    expect(handler.log).to.deep.equal([
      "added vision/yolo max=8 gen=1",
      "changed vision/yolo max=12 gen=2",
      "removed vision/yolo",
    ]);
    await source.stop();
  });

  it("a new generation that loads as the same policy (a default written out) is still a change, so the status can report its observedGeneration", async () => {
    const { handler, informers, source } = setup();
    await source.start();
    const f = informers.get("*")!;
    f.emit("add", resource("yolo", 8, 1));
    f.emit("update", resource("yolo", 8, 2));
    f.emit("update", resource("yolo", 8, 2, { status: { desiredReplicas: 3 } }));
    expect(handler.log).to.deep.equal([
      "added vision/yolo max=8 gen=1",
      "changed vision/yolo max=8 gen=2",
    ]);
    await source.stop();
  });

  it("reports an invalid pool once with the field, keeps quiet on repeats, and a fix is a change", async () => {
    const { handler, informers, source } = setup();
    await source.start();
    const f = informers.get("*")!;
    f.emit("add", resource("yolo", 8, 1));
    f.emit("update", resource("yolo", "lots", 2));
    f.emit("update", resource("yolo", "lots", 2, { status: { conditions: [] } }));
    f.emit("update", resource("yolo", 9, 3));
    f.emit("add", resource("bad", -1, 1));
    f.emit("update", resource("bad", 4, 2));
    expect(handler.log).to.deep.equal([
      "added vision/yolo max=8 gen=1",
      "invalid vision/yolo spec.scaling.maxReplicas",
      "changed vision/yolo max=9 gen=3",
      "invalid vision/bad spec.scaling.maxReplicas",
      "added vision/bad max=4 gen=2",
    ]);
    expect(handler.problems[0]![0]!.file).to.equal("modelpool vision/yolo");
    expect(handler.problems[0]![0]!.message).to.match(/integer|number/);
    await source.stop();
  });

  it("restarts a failed informer with exponential backoff, and not after stop()", async () => {
    const { clock, informers, source, restarts } = setup(["vision", "audio"]);
    await source.start();
    const f = informers.get("vision")!;
    expect(f.starts).to.equal(1);
    f.failNextStarts = 3;
    f.emit("error", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
    // random() ≈ 1: the longest waits, 1 s, 2 s, 4 s, 8 s.
    await clock.advance(1);
    expect(f.starts).to.equal(2);
    await clock.advance(2);
    expect(f.starts).to.equal(3);
    await clock.advance(4);
    expect(f.starts).to.equal(4);
    await clock.advance(7.9);
    expect(f.starts).to.equal(4);
    await clock.advance(0.1);
    expect(f.starts).to.equal(5);
    expect(restarts.map((d) => Math.round(d))).to.deep.equal([1, 2, 4, 8]);
    expect(informers.get("audio")!.starts, "the other namespace's informer is untouched").to.equal(
      1,
    );
    // Running a minute without error starts the count over.
    await clock.advance(61);
    f.emit("error", new Error("watch closed"));
    await clock.advance(1);
    expect(f.starts).to.equal(6);
    expect(source.restarts()).to.deep.equal({ vision: 5, audio: 0 });

    await source.stop();
    expect(f.stops).to.equal(1);
    await clock.advance(120);
    expect(f.starts, "stop()'s AbortError restarts nothing").to.equal(6);
    expect(clock.pending).to.equal(0);
  });

  it("start() resolves only once every informer has listed (regression: at once, the list having failed)", async () => {
    const clock = new ManualClock();
    const informers: FakeInformer[] = [];
    const source = new ModelPoolInformer({
      createInformer: () => {
        const f = new FakeInformer();
        f.failNextStarts = 2;
        informers.push(f);
        return f;
      },
      handler: recorder(),
      clock,
      random: () => 0.999999,
    });
    let started = false;
    const starting = source.start().then(() => {
      started = true;
    });
    await clock.advance(1);
    expect(informers[0]!.starts).to.equal(2);
    expect(started, "two lists failed").to.equal(false);
    await clock.advance(2);
    await starting;
    expect(informers[0]!.starts).to.equal(3);
    await source.stop();
  });

  it("stop() ends a start() still waiting for its list", async () => {
    const clock = new ManualClock();
    const source = new ModelPoolInformer({
      createInformer: () => {
        const f = new FakeInformer();
        f.failNextStarts = 100;
        return f;
      },
      handler: recorder(),
      clock,
    });
    const starting = source.start();
    await clock.advance(5);
    await source.stop();
    await starting;
  });

  it("a failure during the backoff wait is not a second restart", async () => {
    const { clock, informers, source } = setup();
    await source.start();
    const f = informers.get("*")!;
    f.emit("error", new Error("a"));
    f.emit("error", new Error("b"));
    await clock.advance(10);
    expect(f.starts).to.equal(2);
    await source.stop();
  });
});

/** An input reader over a folder held in memory. */
function memoryFolder(files: Map<string, string>): InputReader & { reads: number } {
  const r = {
    reads: 0,
    async readText(path: string) {
      r.reads++;
      const text = files.get(path);
      if (text === undefined)
        return {
          ok: false as const,
          problems: [
            {
              file: path,
              line: 0,
              col: 0,
              path: "",
              message: "cannot read: no such file or directory",
            },
          ],
        };
      return { ok: true as const, input: { file: path, text } };
    },
    async kind(path: string): Promise<PathKind> {
      if (files.has(path)) return "file";
      return [...files.keys()].some((f) => f.startsWith(`${path}/`)) ? "directory" : "missing";
    },
    async list(dir: string) {
      return [...files.keys()]
        .filter((f) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes("/"))
        .sort()
        .map((f) => ({ name: f.slice(dir.length + 1), kind: "file" as PathKind }));
    },
  };
  return r;
}

const poolText = (name: string, maxReplicas: number | string) =>
  stringify({
    ...poolDocument({ scaling: { maxReplicas } }),
    metadata: { name, namespace: "vision" },
  });

describe("pool files (--pools DIR)", () => {
  it("on the real file system: a ConfigMap-style folder whose ..data link is swapped", async () => {
    const root = mkdtempSync(join(tmpdir(), "ts-pools-"));
    try {
      const version = (n: number, max: number) => {
        mkdirSync(join(root, `..v${n}`));
        writeFileSync(join(root, `..v${n}`, "a.yaml"), poolText("a", max));
      };
      version(1, 4);
      symlinkSync(`..v1`, join(root, "..data"));
      symlinkSync(join("..data", "a.yaml"), join(root, "a.yaml"));
      const clock = new ManualClock();
      const handler = recorder();
      const source = new PoolFiles({ dir: root, reader: createInputReader(), handler, clock });
      await source.start();
      expect(handler.log).to.deep.equal(["added vision/a max=4 gen=-"]);
      // The kubelet's update: a new version folder, then ..data re-pointed in one rename.
      version(2, 7);
      symlinkSync(`..v2`, join(root, "..data.tmp"));
      renameSync(join(root, "..data.tmp"), join(root, "..data"));
      await clock.advance(5);
      await until(() => handler.log.length === 2, 5, "the change");
      expect(handler.log[1]).to.equal("changed vision/a max=7 gen=-");
      await source.stop();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("loads every *.yaml, then polls: changed, invalid, removed, renamed", async () => {
    const clock = new ManualClock();
    const files = new Map([
      ["/pools/a.yaml", poolText("a", 4)],
      ["/pools/b.yml", poolText("b", 5)],
      ["/pools/notes.txt", "not a pool"],
      ["/pools/.hidden.yaml", "garbage: ["],
    ]);
    const handler = recorder();
    const reader = memoryFolder(files);
    const source = new PoolFiles({ dir: "/pools", reader, handler, clock });
    await source.start();
    expect(handler.log).to.deep.equal(["added vision/a max=4 gen=-", "added vision/b max=5 gen=-"]);

    await clock.advance(5);
    expect(handler.log.length, "nothing changed").to.equal(2);

    files.set("/pools/a.yaml", poolText("a", 6));
    files.set("/pools/b.yml", poolText("b", "many"));
    await clock.advance(5);
    expect(handler.log.slice(2)).to.deep.equal([
      "changed vision/a max=6 gen=-",
      "invalid vision/b spec.scaling.maxReplicas",
    ]);
    expect(handler.problems[0]![0]!.file).to.equal("/pools/b.yml");
    expect(handler.problems[0]![0]!.line).to.be.greaterThan(0);

    files.delete("/pools/b.yml");
    files.set("/pools/a.yaml", poolText("c", 6));
    await clock.advance(5);
    expect(handler.log.slice(4)).to.deep.equal([
      "removed vision/a",
      "added vision/c max=6 gen=-",
      "removed vision/b",
    ]);
    await source.stop();
    expect(clock.pending).to.equal(0);
  });

  it("a file caught empty or half-written is its pool gone invalid, not removed (regression: removed, so its objects were pruned)", async () => {
    const clock = new ManualClock();
    const files = new Map([["/pools/a.yaml", poolText("a", 4)]]);
    const handler = recorder();
    const source = new PoolFiles({ dir: "/pools", reader: memoryFolder(files), handler, clock });
    await source.start();
    // An editor's writeFile truncates, then writes: a scan between the two reads nothing.
    files.set("/pools/a.yaml", "");
    await clock.advance(5);
    files.set("/pools/a.yaml", "apiVersion: tritonscale.dev/v1alpha1\nkind: Model");
    await clock.advance(5);
    // Invalid and naming another pool (a rename half-typed): still this pool, invalid.
    files.set("/pools/a.yaml", "metadata: { name: b, namespace: vision }\nspec: {");
    await clock.advance(5);
    files.set("/pools/a.yaml", poolText("a", 4));
    await clock.advance(5);
    expect(handler.log.filter((l) => l.startsWith("removed"))).to.deep.equal([]);
    expect(handler.log[0]).to.equal("added vision/a max=4 gen=-");
    expect(handler.log.slice(1, -1).every((l) => l.startsWith("invalid vision/a"))).to.equal(true);
    expect(handler.log.at(-1)).to.equal("changed vision/a max=4 gen=-");
    await source.stop();
  });

  it("skips a second file defining the same pool and says so", async () => {
    const clock = new ManualClock();
    const files = new Map([
      ["/pools/a.yaml", poolText("a", 4)],
      ["/pools/z.yaml", poolText("a", 9)],
    ]);
    const handler = recorder();
    const said: Problem[] = [];
    const source = new PoolFiles({
      dir: "/pools",
      reader: memoryFolder(files),
      handler,
      clock,
      onProblems: (ps) => said.push(...ps),
    });
    await source.start();
    expect(handler.log).to.deep.equal(["added vision/a max=4 gen=-"]);
    expect(said.map((p) => `${p.file}: ${p.message}`)).to.deep.equal([
      "/pools/z.yaml: the pool vision/a is defined in /pools/a.yaml already; each pool must be in one file (this file is skipped)",
    ]);
    await clock.advance(15);
    expect(said.length, "said once, not at every scan").to.equal(1);
    expect(handler.log).to.deep.equal(["added vision/a max=4 gen=-"]);
    await source.stop();
  });

  it("a folder that is gone for a moment keeps its pools", async () => {
    const clock = new ManualClock();
    const files = new Map([["/pools/a.yaml", poolText("a", 4)]]);
    const handler = recorder();
    const said: Problem[] = [];
    const source = new PoolFiles({
      dir: "/pools",
      reader: memoryFolder(files),
      handler,
      clock,
      intervalSeconds: 1,
      onProblems: (ps) => said.push(...ps),
    });
    await source.start();
    files.clear();
    await clock.advance(1);
    files.set("/pools/a.yaml", poolText("a", 4));
    await clock.advance(1);
    await settle();
    expect(handler.log).to.deep.equal(["added vision/a max=4 gen=-"]);
    expect(said.map((p) => p.message)).to.deep.equal([
      "cannot read: no such directory (--pools names a folder of ModelPool files)",
    ]);
    await source.stop();
  });
});
