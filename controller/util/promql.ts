import { parser } from "@prometheus-io/lezer-promql";

/**
 * The PromQL check: lezer-promql (the grammar of Prometheus' own UI) finds no error node,
 * and no range selector or subquery spans zero time (`rate(x[0s])`, which Prometheus
 * refuses: "range must be greater than 0"). Used on every expression `render` writes and
 * on the queries a pool names itself (`spec.monitoring.frontDoor`).
 */

/** Where `node` starts in `expr`, as `line:col` (both 1-based). */
function lineCol(expr: string, offset: number): string {
  const before = expr.slice(0, offset);
  const line = before.split("\n").length;
  const col = offset - (before.lastIndexOf("\n") + 1) + 1;
  return `${line}:${col}`;
}

/** Whether a PromQL duration literal (`0s`, `0m0s`, `0`, `1m`) is zero. */
function isZeroDuration(text: string): boolean {
  const numbers = text.match(/\d+(\.\d+)?/g) ?? [];
  return numbers.length > 0 && numbers.every((n) => Number(n) === 0);
}

/**
 * Problems of `expr` as Prometheus would see them: syntax errors found by lezer-promql
 * (`line:col: syntax error near "…"`) and zero ranges (`line:col: range [0s] is empty`).
 * Empty when Prometheus would accept it.
 */
export function checkPromQL(expr: string): string[] {
  return promqlFindings(expr).map((f) => f.message);
}

/** A problem {@link checkPromQL} finds, with what kind it is. */
export interface PromQLFinding {
  readonly kind: "syntax" | "empty-range";
  readonly message: string;
}

export function promqlFindings(expr: string): PromQLFinding[] {
  const problems: PromQLFinding[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        const near =
          node.to > node.from
            ? `near ${JSON.stringify(expr.slice(node.from, Math.min(node.to, node.from + 40)))}`
            : node.from >= expr.length
              ? "at end of input"
              : `before ${JSON.stringify(expr.slice(node.from, node.from + 20))}`;
        problems.push({
          kind: "syntax",
          message: `${lineCol(expr, node.from)}: syntax error ${near}`,
        });
        return;
      }
      if (node.name !== "MatrixSelector" && node.name !== "SubqueryExpr") return;
      // The range is the first duration of both (a subquery's second is its step).
      const range = node.node.getChild("DurationExpr");
      if (range === null) return;
      const text = expr.slice(range.from, range.to);
      if (isZeroDuration(text)) {
        problems.push({
          kind: "empty-range",
          message: `${lineCol(expr, range.from)}: range [${text}] is empty: Prometheus refuses a range selector or subquery of zero time`,
        });
      }
    },
  });
  return problems;
}
