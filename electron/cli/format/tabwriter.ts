// Go's text/tabwriter (the elastic tabstops Docker's tables are aligned with), for the settings
// docker/cli's formatter uses: minwidth 10, tabwidth 1, padding 3, padchar ' ', no flags.
// A line's cells end at tabs; the text after a line's last tab is not part of any column.

export interface TabwriterSettings {
  readonly minWidth: number;
  readonly padding: number;
}

export const DOCKER_TABLE: TabwriterSettings = { minWidth: 10, padding: 3 };

function width(text: string): number {
  return [...text].length;
}

export function alignTabs(text: string, settings: TabwriterSettings = DOCKER_TABLE): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((line) => line.split('\t'));
  const out: string[] = lines.map(() => '');
  const widths: number[] = [];

  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i] as string[];
      let line = '';
      cells.forEach((cell, j) => {
        line += cell;
        const columnWidth = widths[j];
        if (j < cells.length - 1 && columnWidth !== undefined) line += ' '.repeat(Math.max(0, columnWidth - width(cell)));
      });
      out[i] = line;
    }
  };

  // text/tabwriter's format(): a column block is a run of lines that have a cell in this column.
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let current = line0; current < line1; current++) {
      if (column >= (lines[current] as string[]).length - 1) continue;
      writeLines(start, current);
      start = current;
      let columnWidth = settings.minWidth;
      for (; current < line1; current++) {
        const cells = lines[current] as string[];
        if (column >= cells.length - 1) break;
        columnWidth = Math.max(columnWidth, width(cells[column] as string) + settings.padding);
      }
      widths.push(columnWidth);
      format(start, current);
      widths.pop();
      start = current;
      current--;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}
