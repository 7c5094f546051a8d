/**
 * Properties of the ModelPool loader (controller/policy/load.ts parseModelPool): whatever
 * value sits at whatever field of a valid pool, the loader returns a policy or problems
 * with a line and column; label maps come through exactly or are refused.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { parseDocument } from "yaml";
import { parseModelPool } from "../../controller/policy/load.js";
import { projectRoot } from "../support/reference.js";
import { check, expectInvariants, expectNoFailure, tokenSoup } from "./support.js";

const fleet = readFileSync(join(projectRoot, "examples", "yolo-fleet-spot.yaml"), "utf8");

/** Paths of the example pool (and beside them) where a value is replaced. */
const PATHS: readonly (string | number)[][] = [
  ["metadata", "name"],
  ["metadata", "labels"],
  ["metadata", "labels", "team"],
  ["metadata", "annotations"],
  ["spec", "models"],
  ["spec", "models", 0, "imageSize"],
  ["spec", "models", 0, "batching", "preferredBatchSizes"],
  ["spec", "models", 0, "batching", "queue", "timeoutAction"],
  ["spec", "models", 1, "template"],
  ["spec", "slo", "latencyP99Ms"],
  ["spec", "slo", "targetAttainment"],
  ["spec", "scaling", "minReplicas"],
  ["spec", "scaling", "scaleUp", "period"],
  ["spec", "scaling", "idleWindow"],
  ["spec", "scaling", "schedules", 0, "cron"],
  ["spec", "scaling", "schedules", 0, "timezone"],
  ["spec", "scaling", "schedules", 0, "duration"],
  ["spec", "capacity", "spot", "onDemandBase"],
  ["spec", "capacity", "nodeSelector"],
  ["spec", "capacity", "tolerations", 0],
  ["spec", "cost"],
  ["spec", "unknownField"],
  ["apiVersion"],
  ["kind"],
];

/** Values a user might write, or mistype. */
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    "90s",
    "0s",
    "-1s",
    "1e309",
    "25h",
    "* * * * *",
    "61 * * * *",
    "UTC",
    "Mars/Olympus",
    "a b",
    "__proto__",
    "",
    "\u0000",
    "\uFEFF",
    1e308,
    -0,
    2 ** 53 + 1,
  ),
);

describe("property: ModelPool loader", () => {
  it("any value at any field of a valid pool gives a policy or problems with a line and column", () => {
    check(200, fc.constantFrom(...PATHS), value, (path, v) => {
      const doc = parseDocument(fleet);
      doc.setIn(path, v);
      expectInvariants("modelpool", doc.toString());
    });
  });

  const LABEL_KEY =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
  const labelKey = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9]{0,8}(\.[a-z]{1,6})?\/[a-z][-a-z0-9_.]{0,10}[a-z0-9]$/),
    fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/),
  );
  const labelValue = fc.stringMatching(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,20})?[A-Za-z0-9])?$/);

  it("valid label maps come through exactly", () => {
    check(
      150,
      fc.uniqueArray(fc.tuple(labelKey, labelValue), { selector: ([k]) => k, maxLength: 6 }),
      (entries) => {
        const doc = parseDocument(fleet);
        doc.setIn(["metadata", "labels"], doc.createNode(new Map(entries)));
        const r = parseModelPool(doc.toString(), "pool.yaml");
        expect(r.problems.map((p) => p.message)).to.deep.equal([]);
        const byKey = ([a]: [string, string], [b]: [string, string]) =>
          a < b ? -1 : a > b ? 1 : 0;
        expect(Object.entries(r.policy!.metadata.labels ?? {}).sort(byKey)).to.deep.equal(
          [...entries].sort(byKey),
        );
      },
    );
  });

  it("any other label key is kept exactly when it is a valid key, else refused at the labels", () => {
    const anyKey = fc.oneof(
      fc.string({ unit: "binary", maxLength: 12 }),
      fc.constantFrom("__proto__", "a b", "constructor", "toString", "-a", "a/", "/a", "A/b"),
    );
    check(200, anyKey, (key) => {
      const doc = parseDocument(fleet);
      doc.setIn(["metadata", "labels"], doc.createNode(new Map([[key, "v"]])));
      const text = doc.toString();
      const r = parseModelPool(text, "pool.yaml");
      const failure = (message: string) => ({ kind: "invariant" as const, message });
      if (r.policy !== undefined) {
        const labels = r.policy.metadata.labels ?? {};
        if (!LABEL_KEY.test(key)) {
          expectNoFailure(
            "modelpool",
            text,
            failure(`invalid label key ${JSON.stringify(key)} accepted`),
          );
        } else if (!Object.hasOwn(labels, key) || labels[key] !== "v") {
          expectNoFailure("modelpool", text, failure(`label ${JSON.stringify(key)} lost`));
        }
      } else if (LABEL_KEY.test(key)) {
        expect.fail(`valid label key ${JSON.stringify(key)} refused: ${r.problems[0]?.message}`);
      } else {
        expect(r.problems.some((p) => p.path.startsWith("metadata.labels") && p.line > 0)).to.equal(
          true,
          JSON.stringify(r.problems),
        );
      }
    });
  });

  const TOKENS = [
    "apiVersion:",
    "tritonscale.dev/v1alpha1",
    "kind:",
    "ModelPool",
    "metadata:",
    "spec:",
    "models:",
    "- name: m",
    "template: yolov8-onnx",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "-",
    "?",
    "|",
    ">",
    "!!str",
    "!!binary",
    "%YAML 1.2",
    "---",
    "...",
    "#",
    "'",
    '"',
    "\\",
    "  ",
    "\t",
    "1e309",
    ".nan",
    "~",
    "<<: {}",
  ];

  it("parses any token soup to a policy or problems with a line and column", () => {
    check(1000, tokenSoup(TOKENS, 30), (t) => expectInvariants("modelpool", t));
  });
});
