import { strict as assert } from "node:assert";
import { recordReads } from "../../../checks/kubernetes/read-recorder";

describe("checks/kubernetes/read-recorder", () => {
  const input = () => JSON.parse('{"spec":{"containers":[{"name":"app","ports":[{"containerPort":80}]},"text",[{"deep":true}]],"labels":{"a":"b"}},"__proto__":{"x":1}}') as Record<string, unknown>;

  it("records, for every object at its path, the fields read and whether its keys were listed", () => {
    const { visits } = recordReads(input(), (copy) => {
      const spec = (copy as any).spec;
      void spec.containers[0].ports[0].containerPort;
      void spec.containers[0].missing;
      void ("name" in spec.containers[0]);
      void Object.keys(spec.labels);
      void spec.containers[2][0].deep;
    });
    const seen = visits.map((v) => ({ path: v.path, read: [...v.fieldsRead].sort(), listed: v.keysEnumerated }));
    assert.deepEqual(seen, [
      { path: [], read: ["spec"], listed: false },
      { path: ["spec"], read: ["containers", "labels"], listed: false },
      { path: ["spec", "containers", 0], read: ["missing", "name", "ports"], listed: false },
      { path: ["spec", "containers", 0, "ports", 0], read: ["containerPort"], listed: false },
      { path: ["spec", "containers", 2, 0], read: ["deep"], listed: false },
      { path: ["spec", "labels"], read: [], listed: true },
      { path: ["__proto__"], read: [], listed: false },
    ]);
    assert.deepEqual(Object.keys(visits[0].value), ["spec", "__proto__"]);
  });

  it("hands the inspector a copy: a key named __proto__ stays data, and writes leave the input alone", () => {
    const original = input();
    recordReads(original, (copy) => {
      assert.deepEqual(Object.keys(copy as object), ["spec", "__proto__"]);
      assert.equal(Object.getPrototypeOf(copy), Object.prototype);
      assert.deepEqual((copy as any).__proto__, { x: 1 });
      (copy as any).spec.containers[0].name = "changed";
      (copy as any).spec.added = 1;
    });
    assert.equal((original as any).spec.containers[0].name, "app");
    assert.equal("added" in (original as any).spec, false);
  });
});
