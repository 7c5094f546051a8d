/**
 * Generic CSV helpers shared by the simulator's readers: arrival traces (trace-csv.ts) and
 * latency profiles (profile.ts).
 */

/**
 * Splits one CSV record into fields (RFC 4180 quotes: `"a,b"` and `""` inside quotes; no
 * line breaks inside a field), with each field's 1-based starting column.
 */
export function splitCsvLine(line: string): { fields: string[]; cols: number[] } {
  const fields: string[] = [];
  const cols: number[] = [];
  if (!line.includes('"')) {
    let col = 1;
    for (const f of line.split(",")) {
      fields.push(f);
      cols.push(col);
      col += f.length + 1;
    }
    return { fields, cols };
  }
  let i = 0;
  for (;;) {
    cols.push(i + 1);
    let j = i;
    while (j < line.length && (line[j] === " " || line[j] === "\t")) j++;
    if (line[j] === '"') {
      let out = "";
      j++;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) {
          out += line.slice(j);
          j = line.length;
          break;
        }
        out += line.slice(j, q);
        if (line[q + 1] === '"') {
          out += '"';
          j = q + 2;
        } else {
          j = q + 1;
          break;
        }
      }
      const comma = line.indexOf(",", j);
      fields.push(out);
      if (comma < 0) break;
      i = comma + 1;
    } else {
      const comma = line.indexOf(",", i);
      fields.push(comma < 0 ? line.slice(i) : line.slice(i, comma));
      if (comma < 0) break;
      i = comma + 1;
    }
  }
  return { fields, cols };
}
