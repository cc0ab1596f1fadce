import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { duplicateUrnMessage, installMocks, promiseOf, registered } from "./pulumiMocks";

const THING = "test:index:Thing";

class Group extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Group", name, {}, opts);
  }
}

class Thing extends pulumi.CustomResource {
  declare readonly status: pulumi.Output<unknown>;
  constructor(name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(THING, name, { status: undefined, ...props }, opts);
  }
}

describe("the mock engine of the tests", () => {
  it("records each registration's parent, dependencies and inputs", async () => {
    const collect = await installMocks("dev");
    const group = new Group("g");
    const first = new Thing("first", { size: 1 }, { parent: group });
    const second = new Thing("second", { size: 2 }, { parent: group, dependsOn: [first] });
    new Thing("third", { sizeOfSecond: second.urn.apply(() => 2) });
    const resources = await collect();

    const urn = (name: string) => `urn:pulumi:dev::envoy-mesh::test:index:Group$${THING}::${name}`;
    assert.equal(registered(resources, THING, "first").urn, urn("first"));
    assert.equal(registered(resources, THING, "first").parent, "urn:pulumi:dev::envoy-mesh::test:index:Group::g");
    assert.deepEqual(registered(resources, THING, "first").dependencies, []);
    assert.deepEqual(registered(resources, THING, "second").dependencies, [urn("first")]);
    assert.deepEqual(registered(resources, THING, "second").inputs, { size: 2 });
    assert.equal(registered(resources, THING, "third").parent, undefined);
    assert.deepEqual(registered(resources, THING, "third").dependencies, [urn("second")], "an input's resource is a dependency too");
    assert.equal(registered(resources, "test:index:Group", "g").custom, false);
  });

  it("expands dependsOn on a component to the component's children, as the SDK sends it", async () => {
    const collect = await installMocks("dev");
    const group = new Group("g");
    new Thing("inside", {}, { parent: group });
    new Thing("after", {}, { dependsOn: [group] });
    const after = registered(await collect(), THING, "after");
    assert.ok(after.dependencies.includes(`urn:pulumi:dev::envoy-mesh::test:index:Group$${THING}::inside`), after.dependencies.join(", "));
  });

  it("refuses a second resource with the same URN, as the engine does", async () => {
    const collect = await installMocks("dev");
    new Thing("same", { n: 1 });
    new Thing("same", { n: 2 });
    await assert.rejects(collect(), (error: Error) => error.message.includes(duplicateUrnMessage("urn:pulumi:dev::envoy-mesh::test:index:Thing::same")));
  });

  it("accepts the same name under different parents (their URNs differ)", async () => {
    const collect = await installMocks("dev");
    new Thing("same", {}, { parent: new Group("one") });
    new Thing("same", {}, { parent: new Group("two", { parent: new Group("outer") }) });
    assert.equal((await collect()).filter((r) => r.name === "same").length, 2);
  });

  it("reports the outputs a test asks for, merged over the inputs", async () => {
    const collect = await installMocks("dev", { outputs: (r) => (r.name === "lb" ? { status: { ip: "192.0.2.1" } } : undefined) });
    const lb = new Thing("lb", { size: 1 });
    assert.deepEqual(await promiseOf(lb.status), { ip: "192.0.2.1" });
    await collect();
  });

  it("passes stack config to the program under the project's namespace", async () => {
    await installMocks("dev", { config: { target: "cloud" } });
    assert.equal(new pulumi.Config("envoy-mesh").get("target"), "cloud");
  });
});
