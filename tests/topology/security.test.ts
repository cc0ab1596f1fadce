import { strict as assert } from "node:assert";
import { DEFAULT_SECURITY, parseTopology } from "../../topology";
import { issuesOf, onlyIssue, oneService } from "./fixtures";

describe("topology/security", () => {
  it("is strict mTLS in trust domain cluster.local by default, with 90-day certificates renewed in their last 30 days", () => {
    const { security, front, ports } = parseTopology(oneService());
    assert.deepEqual(security, {
      mtls: "strict",
      trustDomain: "cluster.local",
      certificates: { validityHours: 2160, renewBeforeHours: 720, caValidityHours: 87600 },
    });
    assert.deepEqual(security, DEFAULT_SECURITY);
    assert.equal(front.plainHttp, "serve");
    assert.equal(ports.frontTls, 8443);
  });

  it("takes mtls off, another trust domain and lifetimes, filling in the rest", () => {
    const raw = oneService({}, { security: { mtls: "off", trustDomain: "prod.acme-corp.example", certificates: { validityHours: 48, renewBeforeHours: 12 } } });
    assert.deepEqual(parseTopology(raw).security, {
      mtls: "off",
      trustDomain: "prod.acme-corp.example",
      certificates: { ...DEFAULT_SECURITY.certificates, validityHours: 48, renewBeforeHours: 12 },
    });
  });

  it("refuses an mtls mode other than strict or off, naming the field and the value", () => {
    assert.match(onlyIssue(oneService({}, { security: { mtls: "permissive" } }), "topology.security.mtls"), /"permissive".*strict, off/);
  });

  for (const bad of ["Cluster.Local", "acme corp", "spiffe://x", ""]) {
    it(`refuses the trust domain ${JSON.stringify(bad)}`, () => {
      const issues = issuesOf(oneService({}, { security: { trustDomain: bad } }));
      assert.ok(issues.some((i) => i.path === "topology.security.trustDomain"), JSON.stringify(issues));
    });
  }

  it("refuses a renewal window as long as the certificate's validity: every pulumi up would renew", () => {
    const raw = oneService({}, { security: { certificates: { validityHours: 24, renewBeforeHours: 24 } } });
    assert.match(onlyIssue(raw, "topology.security.certificates.renewBeforeHours"), /24 must be less than validityHours \(24\)/);
  });

  it("refuses a certificate that would outlive its CA", () => {
    const raw = oneService({}, { security: { certificates: { validityHours: 100, renewBeforeHours: 10, caValidityHours: 50 } } });
    assert.match(onlyIssue(raw, "topology.security.certificates.validityHours"), /more than caValidityHours \(50\)/);
  });

  it("refuses a lifetime that is not a positive whole number of hours", () => {
    const issues = issuesOf(oneService({}, { security: { certificates: { validityHours: 0, caValidityHours: "long" } } }));
    assert.deepEqual(issues.map((i) => i.path).sort(), ["topology.security.certificates.caValidityHours", "topology.security.certificates.validityHours"]);
  });

  it("takes plainHttp serve, redirect or off, and refuses anything else", () => {
    const front = (plainHttp: unknown) => oneService({}, { front: { plainHttp, routes: [{ prefix: "/", service: "web" }] } });
    assert.equal(parseTopology(front("redirect")).front.plainHttp, "redirect");
    assert.equal(parseTopology(front("off")).front.plainHttp, "off");
    assert.match(onlyIssue(front("https"), "topology.front.plainHttp"), /"https"/);
  });

  it("refuses a front HTTPS port that is the plain HTTP port", () => {
    assert.match(onlyIssue(oneService({}, { ports: { frontTls: 8080 } }), "topology.ports.frontTls"), /already the front port/);
  });
});
