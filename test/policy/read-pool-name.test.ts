import { expect } from "chai";
import { readPoolName } from "../../controller/policy/index.js";

/** The pool a file means to define, read even from a broken pool (pool-files keys on it). */
const cases: { name: string; text: string; expected: ReturnType<typeof readPoolName> }[] = [
  {
    name: "an invalid pool still names its pool",
    text: "kind: ModelPool\nmetadata: { name: yolo, namespace: vision }\nspec: { models: 3 }\n",
    expected: { name: "yolo", namespace: "vision" },
  },
  {
    name: "no namespace written",
    text: "metadata:\n  name: yolo\n",
    expected: { name: "yolo" },
  },
  {
    name: "a namespace that is not a string is left out",
    text: "metadata: { name: yolo, namespace: [a] }\n",
    expected: { name: "yolo" },
  },
  {
    name: "a name from an alias",
    text: "x: &n yolo\nmetadata: { name: *n }\n",
    expected: { name: "yolo" },
  },
  { name: "a YAML syntax error", text: "metadata: { name: yolo\n", expected: undefined },
  {
    name: "two documents",
    text: "metadata: { name: a }\n---\nmetadata: { name: b }\n",
    expected: undefined,
  },
  { name: "an empty name", text: "metadata: { name: '' }\n", expected: undefined },
  { name: "a number as name", text: "metadata: { name: 5 }\n", expected: undefined },
  { name: "not a mapping", text: "- a\n", expected: undefined },
  { name: "nested too deeply", text: `${"[".repeat(1000)}\n`, expected: undefined },
];

describe("readPoolName", () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(readPoolName(c.text)).to.deep.equal(c.expected);
    });
  }
});
