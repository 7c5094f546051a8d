import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { InputError } from "../../controller/diagnostics/problem.js";
import {
  MAX_TRACE_LINE,
  parseTraceCsv,
  readTraceCsv,
  TraceCsvParser,
} from "../../controller/simulate/trace-csv.js";
import { drain } from "./drain.js";

/** Arrivals, or the problems' text, of a parse. */
function outcome(parse: () => { fill(buf: Float64Array, until: number): number }): string {
  try {
    const src = parse() as Parameters<typeof drain>[0];
    return JSON.stringify([...drain(src)]);
  } catch (e) {
    if (e instanceof InputError) return `error: ${e.message}`;
    throw e;
  }
}

function pushed(text: string, size: number): TraceCsvParser {
  const parser = new TraceCsvParser("trace.csv", 3);
  for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
  return parser;
}

async function* bytes(text: string, size: number): AsyncGenerator<Uint8Array> {
  const all = new TextEncoder().encode(text);
  for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
}

describe("TraceCsvParser: streamed traces", () => {
  const texts: { name: string; text: string }[] = [
    { name: "timestamps in seconds", text: "time\n0.5\n1.25\n3\n3\n7.75\n" },
    { name: "whole seconds that repeat", text: "5\n5\n6\n6\n6\n9\n" },
    { name: "CRLF line ends", text: "timestamp\r\n0\r\n0.5\r\n2\r\n" },
    { name: "a byte-order mark", text: "\uFEFFtime\n1\n2\n4\n" },
    { name: "no newline at the end", text: "time\n1\n2\n4" },
    {
      name: "ISO timestamps, quotes and comments",
      text: '# log\nid,timestamp\n"a,1",2024-05-01T00:00:00Z\n\nb,2024-05-01T00:00:01.5Z\n',
    },
    { name: "counts per minute", text: "time,count\n0,5\n60,0\n120,7\n" },
    { name: "rates", text: "time,rps\n0,10\n10,0\n20,30\n" },
    { name: "bad rows", text: "time,count\n0,5\nx,1\n60,-1\n1e309,2\n" },
    { name: "an empty trace", text: "" },
    { name: "only a header", text: "time\n" },
  ];
  for (const c of texts) {
    it(`gives the same result however the text is cut: ${c.name}`, async () => {
      const whole = outcome(() => parseTraceCsv(c.text, "trace.csv", 3));
      for (const size of [1, 2, 3, 7, 1000]) {
        expect(
          outcome(() => pushed(c.text, size).end()),
          `chunks of ${size}`,
        ).to.equal(whole);
      }
      for (const size of [1, 5]) {
        let streamed: string;
        try {
          const src = await readTraceCsv(bytes(c.text, size), "trace.csv", 3);
          streamed = JSON.stringify([...drain(src)]);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          streamed = `error: ${e.message}`;
        }
        expect(streamed, `bytes in chunks of ${size}`).to.equal(whole);
      }
    });
  }

  it("reads a file stream, in small chunks, as the text", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trace-"));
    try {
      const text = "timestamp\n0.5\n1.25\n3\n3\n7.75\n";
      writeFileSync(join(dir, "t.csv"), text);
      const stream = createReadStream(join(dir, "t.csv"), { highWaterMark: 4 });
      const src = await readTraceCsv(stream, "t.csv", 3);
      expect([...drain(src)]).to.deep.equal([...drain(parseTraceCsv(text, "t.csv", 3))]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("decodes UTF-8 split across byte chunks", async () => {
    const text = "# café ☕\ntime\n1\n2\n";
    const src = await readTraceCsv(bytes(text, 1), "trace.csv");
    expect([...drain(src)]).to.deep.equal([0, 1]);
  });

  it("holds no more than one line of text, however large the input", () => {
    const parser = new TraceCsvParser("trace.csv");
    parser.push("time\n");
    for (let k = 0; k < 20; k++) {
      parser.push(`${Array.from({ length: 1000 }, (_, i) => k * 1000 + i).join("\n")}\n`);
      expect(parser.bufferedChars).to.equal(0);
    }
    parser.push("20000");
    expect(parser.bufferedChars).to.equal(5);
    expect(parser.end().durationSeconds).to.be.above(20_000);
  });

  it("refuses a line longer than the limit (binary input) without holding it", () => {
    const parser = new TraceCsvParser("trace.csv");
    parser.push("time\n1\n");
    const block = "7".repeat(64 * 1024);
    for (let i = 0; i < (2 * MAX_TRACE_LINE) / block.length; i++) {
      parser.push(block);
      expect(parser.bufferedChars).to.be.at.most(MAX_TRACE_LINE);
    }
    parser.push("\n2\n");
    expect(() => parser.end())
      .to.throw(InputError)
      .with.property("message")
      .that.includes(`trace.csv:3:1: line longer than ${MAX_TRACE_LINE} characters`);
  });

  it("counts lines after a long one", () => {
    const text = `time\n${"9".repeat(MAX_TRACE_LINE + 1)}\nx\n`;
    expect(outcome(() => pushed(text, 4096).end())).to.include("trace.csv:3:1: timestamp");
  });
});
