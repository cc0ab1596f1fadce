import { strict as assert } from "node:assert";
import { parseXml, textOf } from "./xml";

/** The checker the SVG tests rely on must itself refuse what is not well-formed. */
describe("tests/graph/xml: the strict XML reader", () => {
  it("reads a declaration, DOCTYPE, comments, attributes and references", () => {
    const root = parseXml('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- c -->\n<svg a="x &amp; y"><g><text>&lt;a&#45;&gt;b&#x41;</text></g><path d="M0"/></svg>\n');
    assert.equal(root.attributes.a, "x & y");
    assert.equal(textOf(root), "<a->bA");
  });

  for (const [bad, why] of [
    ["<svg><g></svg>", /<\/svg> closes <g>/],
    ["<svg><g>", /<g> is never closed/],
    ["<svg>a & b</svg>", /bare "&"/],
    ["<svg>&nbsp;</svg>", /unknown entity/],
    ['<svg a="1" a="2"/>', /attribute a twice/],
    ["<svg a=1/>", /bad attribute/],
    ["<svg/><svg/>", /a second root/],
    ["<svg/>text", /text outside the root/],
    ["<svg>< g/></svg>", /"<" not starting a tag/],
    ["<svg><!-- a -- b --></svg>", /"--" inside a comment/],
    ["", /no root element/],
  ] as const) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseXml(bad), why));
  }
});
