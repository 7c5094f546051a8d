import { parser } from "@prometheus-io/lezer-promql";

/**
 * The PromQL check every generated expression passes: lezer-promql, the grammar of
 * Prometheus' own UI.
 */

/**
 * PromQL syntax problems of `expr` found by lezer-promql (Prometheus' own UI grammar): one
 * message per error node, `line:col: syntax error near "…"`. Empty when it parses.
 */
export function checkPromQL(expr: string): string[] {
  const problems: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (!node.type.isError) return;
      const before = expr.slice(0, node.from);
      const line = before.split("\n").length;
      const col = node.from - (before.lastIndexOf("\n") + 1) + 1;
      const near =
        node.to > node.from
          ? `near ${JSON.stringify(expr.slice(node.from, Math.min(node.to, node.from + 40)))}`
          : node.from >= expr.length
            ? "at end of input"
            : `before ${JSON.stringify(expr.slice(node.from, node.from + 20))}`;
      problems.push(`${line}:${col}: syntax error ${near}`);
    },
  });
  return problems;
}
