/** A line as quoted in a bad-record message: JSON-escaped, cut after 80 characters. */
export function previewLine(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}...` : line);
}
