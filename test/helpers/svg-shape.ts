import { expect } from 'vitest';

/** An element of an SVG document as `svgShape` reads it: its name and attributes. */
export interface SvgElement {
  name: string;
  attrs: Record<string, string>;
  /** The text directly inside it, for `<text>` and `<title>`. */
  text: string;
}

/**
 * Reads an SVG document as a flat list of elements, failing the test unless it is well-formed XML of
 * the shape a self-contained chart has: one `<svg>` root in the SVG namespace, every tag closed in
 * order, attributes quoted, no `<script>`, no external references (`href`, `@import`, `url(http`).
 */
export function svgShape(text: string): SvgElement[] {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '').trim();
  expect(body.startsWith('<svg'), 'document starts with <svg').toBe(true);
  expect(body.endsWith('</svg>'), 'document ends with </svg>').toBe(true);
  expect(text).not.toMatch(/<script|href=|@import|url\(\s*['"]?https?:/i);
  const elements: SvgElement[] = [];
  const open: SvgElement[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length) {
    tag.lastIndex = at;
    m = tag.exec(body);
    expect(m, `well-formed markup at ${JSON.stringify(body.slice(at, at + 40))}`).not.toBeNull();
    if (!m) break;
    at = tag.lastIndex;
    const [, closing, name, attrText, selfClosing, chars] = m;
    if (chars !== undefined) {
      expect(chars.includes('>') || /&(?!amp;|lt;|gt;|quot;|apos;)/.test(chars), 'escaped text').toBe(false);
      const parent = open[open.length - 1];
      if (parent) parent.text += chars;
      else expect(chars.trim(), 'text outside the root').toBe('');
      continue;
    }
    if (closing) {
      expect(open.pop()?.name, `</${name}> closes the element open`).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of (attrText ?? '').matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1] as string] = a[2] as string;
    const element = { name: name as string, attrs, text: '' };
    if (elements.length === 0) expect(open.length).toBe(0);
    else expect(open.length, `<${name}> inside the root`).toBeGreaterThan(0);
    elements.push(element);
    if (!selfClosing) open.push(element);
  }
  expect(
    open.map((e) => e.name),
    'elements left open',
  ).toEqual([]);
  expect(elements.filter((e) => e.name === 'svg')).toHaveLength(1);
  expect(elements[0]?.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
  return elements;
}

/** The points of a `<polyline>`, as [x, y] pairs. */
export function polylinePoints(e: SvgElement): [number, number][] {
  return (e.attrs.points ?? '')
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '')
    .map((p) => p.split(',').map(Number) as [number, number]);
}
