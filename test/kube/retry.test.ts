import { expect } from "chai";
import {
  apiFailure,
  backoffMs,
  CallTimeout,
  classify,
  type FailureClass,
  isConflict,
  isNotFound,
  KubeCallError,
  retryStats,
  withRetries,
} from "../../controller/kube/retry.js";

/** An error shaped like client-node 1.x's ApiException (body: the Status JSON text). */
function apiException(code: number, reason: string, message: string, headers = {}) {
  return Object.assign(new Error(`HTTP-Code: ${code}`), {
    code,
    body: JSON.stringify({ kind: "Status", code, reason, message }),
    headers,
  });
}

describe("kube/retry: classify, backoff, withRetries", () => {
  const classes: { name: string; err: unknown; want: FailureClass }[] = [
    { name: "409 Conflict", err: apiException(409, "Conflict", "modified"), want: "conflict" },
    { name: "429", err: apiException(429, "TooManyRequests", "slow down"), want: "transient" },
    { name: "500", err: apiException(500, "InternalError", "etcd"), want: "transient" },
    { name: "503", err: apiException(503, "ServiceUnavailable", "x"), want: "transient" },
    { name: "504 timeout", err: apiException(504, "Timeout", "x"), want: "transient" },
    { name: "422 Invalid", err: apiException(422, "Invalid", "bad"), want: "permanent" },
    { name: "415", err: apiException(415, "UnsupportedMediaType", "x"), want: "permanent" },
    { name: "404", err: apiException(404, "NotFound", "x"), want: "permanent" },
    { name: "403", err: apiException(403, "Forbidden", "rbac"), want: "permanent" },
    { name: "our timeout", err: new CallTimeout(100), want: "transient" },
    {
      name: "connection refused",
      err: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      want: "transient",
    },
    {
      name: "node-fetch system error",
      err: Object.assign(new Error("socket hang up"), { name: "FetchError", type: "system" }),
      want: "transient",
    },
    { name: "a bug (TypeError)", err: new TypeError("x is undefined"), want: "permanent" },
  ];
  for (const row of classes) {
    it(`classify: ${row.name} → ${row.want}`, () => {
      expect(classify(row.err)).to.equal(row.want);
    });
  }

  const backoffs: {
    name: string;
    attempt: number;
    random: number;
    retryAfter?: number;
    want: number;
  }[] = [
    { name: "first wait, jitter 0.5", attempt: 0, random: 0.5, want: 100 },
    { name: "doubles", attempt: 3, random: 0.5, want: 800 },
    { name: "jitter 0 waits nothing", attempt: 3, random: 0, want: 0 },
    { name: "capped at maxDelayMs", attempt: 20, random: 0.999, want: 9990 },
    { name: "never below Retry-After", attempt: 0, random: 0.5, retryAfter: 3, want: 3000 },
  ];
  for (const row of backoffs) {
    it(`backoffMs: ${row.name}`, () => {
      expect(backoffMs(row.attempt, { random: () => row.random }, row.retryAfter)).to.equal(
        row.want,
      );
    });
  }

  it("apiFailure reads the Status body and Retry-After", () => {
    expect(
      apiFailure(apiException(429, "TooManyRequests", "slow", { "retry-after": "2" })),
    ).to.deep.equal({
      code: 429,
      reason: "TooManyRequests",
      message: "slow",
      retryAfterSeconds: 2,
    });
  });

  const wrapped = (err: unknown) =>
    new KubeCallError("pruning Deployment vision/yolo", apiFailure(err), 1, { cause: err });
  const kinds: { name: string; err: unknown; notFound: boolean; conflict: boolean }[] = [
    {
      name: "a 404 ApiException",
      err: apiException(404, "NotFound", "x"),
      notFound: true,
      conflict: false,
    },
    {
      name: "a 404 wrapped by withRetries (what apply's prune sees)",
      err: wrapped(apiException(404, "NotFound", "x")),
      notFound: true,
      conflict: false,
    },
    {
      name: "a 409 ApiException",
      err: apiException(409, "Conflict", "x"),
      notFound: false,
      conflict: true,
    },
    {
      name: "a 409 wrapped by withRetries",
      err: wrapped(apiException(409, "Conflict", "x")),
      notFound: false,
      conflict: true,
    },
    {
      name: "a 500",
      err: apiException(500, "InternalError", "x"),
      notFound: false,
      conflict: false,
    },
    {
      name: "a network error with no HTTP status",
      err: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      notFound: false,
      conflict: false,
    },
    { name: "our timeout", err: new CallTimeout(100), notFound: false, conflict: false },
  ];
  for (const row of kinds) {
    it(`one classification: ${row.name} → not found ${row.notFound}, conflict ${row.conflict}`, () => {
      expect(isNotFound(row.err)).to.equal(row.notFound);
      expect(isConflict(row.err)).to.equal(row.conflict);
    });
  }

  it("apiFailure of a KubeCallError is the failure it wraps", () => {
    const inner = apiException(429, "TooManyRequests", "slow", { "retry-after": "2" });
    expect(apiFailure(wrapped(inner))).to.deep.equal(apiFailure(inner));
  });

  it("withRetries: transient failures back off, then succeed; a conflict re-reads at once", async () => {
    const answers = [
      apiException(500, "InternalError", "a"),
      apiException(409, "Conflict", "b"),
      apiException(429, "TooManyRequests", "c"),
    ];
    const sleeps: number[] = [];
    let rereads = 0;
    const stats = retryStats();
    const out = await withRetries(
      "applying X ns/x",
      async () => {
        const e = answers.shift();
        if (e) throw e;
        return "ok";
      },
      { random: () => 0.5, sleep: async (ms) => void sleeps.push(ms) },
      { stats, onConflict: async () => void rereads++ },
    );
    expect(out).to.equal("ok");
    expect(sleeps).to.deep.equal([100, 200]);
    expect(rereads).to.equal(1);
    expect(stats).to.deep.equal({ calls: 4, conflicts: 1, transient: 2, sleptMs: 300 });
  });

  it("withRetries: bounded; the error names the action, the answer and the tries", async () => {
    const call = async () => {
      throw apiException(503, "ServiceUnavailable", "apiserver down");
    };
    const err = await withRetries("applying ScaledObject vision/yolo", call, {
      attempts: 3,
      sleep: async () => undefined,
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KubeCallError);
    expect((err as Error).message).to.equal(
      "applying ScaledObject vision/yolo: 503 ServiceUnavailable: apiserver down (after 3 tries)",
    );
  });

  it("withRetries: a permanent failure is thrown at once", async () => {
    let calls = 0;
    const err = await withRetries("applying ScaledObject vision/yolo", async () => {
      calls++;
      throw apiException(422, "Invalid", "spec.x: Invalid value");
    }).catch((e: unknown) => e);
    expect(calls).to.equal(1);
    expect((err as Error).message).to.equal(
      "applying ScaledObject vision/yolo: 422 Invalid: spec.x: Invalid value",
    );
  });
});
