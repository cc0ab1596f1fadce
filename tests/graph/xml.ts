/**
 * A strict reader for the XML Graphviz writes (no XML parser is a dependency): the declaration, a
 * DOCTYPE, comments, elements with quoted attributes, text with the predefined entities and
 * character references. Anything else — an unbalanced or unclosed tag, a bare `&` or `<`, a
 * duplicate attribute, text outside the root — throws with its offset, so a test that reads an
 * SVG through it proves the SVG well-formed in these respects.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly (XmlElement | string)[];
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*/;
const ENTITIES: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Text with its references replaced; throws on a bare `&`, `<`, or an unknown entity. */
function decode(text: string, at: number): string {
  if (text.includes("<")) throw new Error(`offset ${at}: "<" in text or attribute value`);
  return text.replace(/&([^;\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(";")) throw new Error(`offset ${at}: bare "&" in ${JSON.stringify(text)}`);
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number(ref.slice(1)));
    const entity = ENTITIES[ref];
    if (entity === undefined) throw new Error(`offset ${at}: unknown entity &${ref};`);
    return entity;
  });
}

/** The root element of `xml`, or an error naming what is wrong and where. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const stack: { name: string; attributes: Record<string, string>; children: (XmlElement | string)[] }[] = [];
  let root: XmlElement | undefined;
  const skip = (end: string, what: string) => {
    const close = xml.indexOf(end, i);
    if (close < 0) throw new Error(`offset ${i}: unclosed ${what}`);
    const body = xml.slice(i, close);
    i = close + end.length;
    return body;
  };
  while (i < xml.length) {
    if (xml.startsWith("<?", i)) {
      if (i !== 0) throw new Error(`offset ${i}: XML declaration not at the start`);
      skip("?>", "declaration");
    } else if (xml.startsWith("<!--", i)) {
      i += 4;
      const body = skip("-->", "comment");
      if (body.includes("--")) throw new Error(`offset ${i}: "--" inside a comment`);
    } else if (xml.startsWith("<!DOCTYPE", i)) {
      if (stack.length > 0 || root !== undefined) throw new Error(`offset ${i}: DOCTYPE inside the document`);
      skip(">", "DOCTYPE");
    } else if (xml.startsWith("</", i)) {
      const at = i;
      i += 2;
      const name = skip(">", "end tag").trim();
      const open = stack.pop();
      if (open === undefined || open.name !== name) throw new Error(`offset ${at}: </${name}> closes ${open === undefined ? "nothing" : `<${open.name}>`}`);
      const element: XmlElement = open;
      if (stack.length === 0) root = element;
      else stack[stack.length - 1].children.push(element);
    } else if (xml[i] === "<") {
      const at = i;
      i++;
      const name = NAME.exec(xml.slice(i))?.[0];
      if (name === undefined) throw new Error(`offset ${at}: "<" not starting a tag`);
      if (root !== undefined) throw new Error(`offset ${at}: a second root element <${name}>`);
      i += name.length;
      const attributes: Record<string, string> = {};
      for (;;) {
        const space = /^\s*/.exec(xml.slice(i))?.[0] ?? "";
        i += space.length;
        if (xml.startsWith("/>", i) || xml[i] === ">") break;
        if (space === "") throw new Error(`offset ${i}: no space before an attribute of <${name}>`);
        const attr = /^([A-Za-z_:][-A-Za-z0-9_.:]*)="([^"]*)"/.exec(xml.slice(i));
        if (attr === null) throw new Error(`offset ${i}: bad attribute in <${name}>: ${JSON.stringify(xml.slice(i, i + 30))}`);
        if (attr[1] in attributes) throw new Error(`offset ${i}: attribute ${attr[1]} twice in <${name}>`);
        attributes[attr[1]] = decode(attr[2], i);
        i += attr[0].length;
      }
      const element = { name, attributes, children: [] as (XmlElement | string)[] };
      if (xml.startsWith("/>", i)) {
        i += 2;
        if (stack.length === 0) root = element;
        else stack[stack.length - 1].children.push(element);
      } else {
        i++;
        stack.push(element);
      }
    } else {
      const next = xml.indexOf("<", i);
      const text = xml.slice(i, next < 0 ? xml.length : next);
      if (stack.length === 0) {
        if (text.trim() !== "") throw new Error(`offset ${i}: text outside the root element: ${JSON.stringify(text.slice(0, 30))}`);
      } else stack[stack.length - 1].children.push(decode(text, i));
      i += text.length;
    }
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  if (root === undefined) throw new Error("no root element");
  return root;
}

/** Every element under `element` (itself included), depth first, in document order. */
export function elements(element: XmlElement): XmlElement[] {
  return [element, ...element.children.flatMap((c) => (typeof c === "string" ? [] : elements(c)))];
}

/** The text inside `element`. */
export function textOf(element: XmlElement): string {
  return element.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}
