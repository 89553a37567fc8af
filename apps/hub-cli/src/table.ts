/** A cell, painted after it is padded (colours do not count in the width). */
export type Cell = string | { text: string; paint: (text: string) => string };

const textOf = (cell: Cell) => (typeof cell === 'string' ? cell : cell.text);

/** Columns padded to their widest cell, two spaces apart; the last column is cut to fit `width`. */
export function formatTable(headers: string[], rows: Cell[][], width = Infinity): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => textOf(row[i] ?? '').length)));
  const line = (cells: Cell[]) => {
    const shown = cells.map((cell, i) => {
      const text = i === cells.length - 1 ? textOf(cell) : textOf(cell).padEnd(widths[i]);
      return { cell, text };
    });
    const before = shown.slice(0, -1).reduce((sum, { text }) => sum + text.length + 2, 0);
    return shown
      .map(({ cell, text }, i) => {
        const cut = i === shown.length - 1 && before + text.length > width ? `${text.slice(0, Math.max(0, width - before - 1))}…` : text;
        return typeof cell === 'string' ? cut : cell.paint(cut);
      })
      .join('  ')
      .trimEnd();
  };
  return [line(headers), ...rows.map(line)];
}
