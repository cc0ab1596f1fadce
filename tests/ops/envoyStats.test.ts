import { strict as assert } from "assert";
import { RE2JS } from "re2js";
import {
  EnvoyStatus,
  MeshEnvoy,
  StatusReport,
  assessEnvoy,
  buildReport,
  formatReport,
  parseEnvoyConfigOutput,
  parseHttpResponse,
  parseStatsText,
  statsFilter,
  statsPath,
  summarize,
} from "../../ops/envoyStats";
import { OpsError } from "../../ops/errors";
import { LIVE, statsText } from "./fakes";

const RDS = "http.ingress_http.rds.service-a";
const EXPECTED = { "service-a": { bootstrap: "b1", live: { ...LIVE, [RDS]: "r2" } } };
const pod: MeshEnvoy = { proxy: "service-a", name: "service-a-7d9c-abcde", restarts: 0, ready: true };
const logs = (e: MeshEnvoy) => `kubectl -n envoy-mesh logs ${e.name} -c envoy`;

describe("ops/envoyStats: what an Envoy says it runs", () => {
  describe("parseStatsText (Envoy's /stats text: stats_render.cc)", () => {
    it("reads counters as numbers and text readouts as strings, skipping histograms", () => {
      const stats = parseStatsText(
        [
          "listener_manager.lds.update_success: 3",
          'listener_manager.lds.version_text: "1d5000000000000a"',
          'cluster_manager.cds.version_text: ""',
          'odd.text: "a \\"quoted\\" word"',
          "http.ingress_http.downstream_rq_time: P0(nan,1) P25(nan,2)",
          "",
        ].join("\n"),
      );
      assert.deepEqual(
        [...stats],
        [
          ["listener_manager.lds.update_success", 3],
          ["listener_manager.lds.version_text", "1d5000000000000a"],
          ["cluster_manager.cds.version_text", ""],
          ["odd.text", 'a "quoted" word'],
        ],
      );
    });
  });

  describe("statsFilter: Envoy's default stats matcher is RE2", () => {
    const prefixes = ["listener_manager.lds", RDS];
    let re: RE2JS;
    before(() => {
      re = RE2JS.compile(statsFilter(prefixes));
    });
    it("matches exactly the version and update counters of each subscription", () => {
      for (const p of prefixes) {
        for (const s of ["version_text", "update_success", "update_rejected", "update_failure"]) {
          assert.ok(re.matches(`${p}.${s}`), `${p}.${s}`);
        }
      }
    });
    it("and nothing else: a dot is a dot, and the whole name must match", () => {
      for (const name of ["listener_manager.lds.update_time", "listener_managerXlds.version_text", "x.listener_manager.lds.version_text", "listener_manager.lds.version_text.x", "cluster_manager.cds.version_text"]) {
        assert.ok(!re.matches(name), name);
      }
    });
    it("goes in the query string URL-encoded, and decodes back to the same filter", () => {
      const path = statsPath(prefixes);
      assert.match(path, /^\/stats\?filter=[A-Za-z0-9%._()*!'~-]+$/);
      assert.equal(decodeURIComponent(path.split("filter=")[1]), statsFilter(prefixes));
    });
  });

  describe("parseHttpResponse", () => {
    it("undoes chunked transfer encoding", () => {
      const raw = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
      assert.deepEqual(parseHttpResponse(raw), { status: 200, body: "hello, world" });
    });
    it("keeps a plain body, and reads the status", () => {
      assert.deepEqual(parseHttpResponse("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\nno"), { status: 503, body: "no" });
    });
    it("refuses what is not HTTP", () => {
      assert.throws(() => parseHttpResponse("bash: connect: Connection refused"), /not an HTTP response/);
    });
  });

  describe("parseEnvoyConfigOutput (the stack output envoyConfig)", () => {
    it("takes { proxy: { bootstrap, live } }", () => {
      assert.deepEqual(parseEnvoyConfigOutput("kind", EXPECTED), EXPECTED);
    });
    it("a stack without it: says to deploy first", () => {
      assert.throws(() => parseEnvoyConfigOutput("kind", undefined), (e: unknown) => e instanceof OpsError && /stack kind has no output envoyConfig/.test(e.message) && /npm run up/.test(e.message));
    });
    it("another shape: every problem at once, each naming its field", () => {
      assert.throws(
        () => parseEnvoyConfigOutput("kind", { a: { bootstrap: 1, live: {} }, b: { bootstrap: "x", live: { "listener_manager.lds": 7, "cluster_manager.cds": "" } } }),
        (e: unknown) =>
          e instanceof OpsError &&
          /envoyConfig\.a must be/.test(e.message) &&
          /envoyConfig\.b\.live\.listener_manager\.lds must be a version string, got 7/.test(e.message) &&
          /envoyConfig\.b\.live\.cluster_manager\.cds must be a version string, got ""/.test(e.message),
      );
    });
  });

  describe("assessEnvoy", () => {
    it("converged: every subscription at its expected version", () => {
      const s = assessEnvoy(pod, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r2" }) });
      assert.equal(s.state, "converged");
      assert.deepEqual(
        s.subscriptions.map((x) => [x.statPrefix, x.running, x.expected]),
        [["cluster_manager.cds", LIVE["cluster_manager.cds"], LIVE["cluster_manager.cds"]], [RDS, "r2", "r2"], ["listener_manager.lds", LIVE["listener_manager.lds"], LIVE["listener_manager.lds"]]],
      );
    });
    it("lagging: a subscription still at an older version, nothing rejected", () => {
      const s = assessEnvoy(pod, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r1" }) });
      assert.equal(s.state, "lagging");
    });
    it("lagging too: a subscription Envoy does not have yet", () => {
      assert.equal(assessEnvoy(pod, EXPECTED, { text: statsText(LIVE) }).state, "lagging");
    });
    it("rejected: lagging with update_rejected or update_failure above 0", () => {
      assert.equal(assessEnvoy(pod, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r1" }, { rejected: 1 }) }).state, "rejected");
      assert.equal(assessEnvoy(pod, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r1" }, { failure: 2 }) }).state, "rejected");
    });
    it("a rejection of an older file no longer matters once the expected version runs", () => {
      assert.equal(assessEnvoy(pod, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r2" }, { rejected: 1 }) }).state, "converged");
    });
    it("unreadable: the reason is kept; unexpected: a proxy the output does not name", () => {
      assert.deepEqual(
        [assessEnvoy(pod, EXPECTED, { error: "connection refused" }).reason, assessEnvoy({ ...pod, notRunning: "the pod is Pending" }, EXPECTED, undefined).reason],
        ["connection refused", "the pod is Pending"],
      );
      assert.equal(assessEnvoy({ ...pod, proxy: "old" }, EXPECTED, undefined).state, "unexpected");
    });
  });

  describe("the report", () => {
    let envoys: EnvoyStatus[];
    let report: StatusReport;
    before(() => {
      envoys = [
        assessEnvoy({ ...pod, name: "service-a-2", restarts: 1 }, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r1" }, { rejected: 1 }) }),
        assessEnvoy({ ...pod, name: "service-a-1" }, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r2" }) }),
        assessEnvoy({ ...pod, name: "service-a-3" }, EXPECTED, { text: statsText({ ...LIVE, [RDS]: "r1" }) }),
        assessEnvoy({ ...pod, name: "service-a-4" }, EXPECTED, { error: "the API server's pod proxy to port 9902 answered: error trying to reach service: dial tcp 10.244.0.9:9902: connect: connection refused" }),
      ];
      report = buildReport({ ...EXPECTED, "service-c": EXPECTED["service-a"] }, envoys);
    });

    it("one line per converged Envoy; the lagging ones name each subscription's version against the expected one", () => {
      assert.equal(report.converged, false);
      assert.deepEqual(formatReport(report, logs), [
        "  ok        service-a service-a-1: 3 subscriptions at the expected version, 0 restarts",
        `  rejected  service-a service-a-2: Envoy rejected an update and kept its last good config (1 restart); see kubectl -n envoy-mesh logs service-a-2 -c envoy (Envoy logs "Filesystem config update rejected")`,
        `            ${RDS}: runs r1, expected r2 (update_rejected 1, update_failure 0)`,
        "  lagging   service-a service-a-3: 1 of 3 subscriptions still at an older version, 0 restarts",
        `            ${RDS}: runs r1, expected r2`,
        "  unknown   service-a service-a-4: its stats cannot be read: the API server's pod proxy to port 9902 answered: error trying to reach service: dial tcp 10.244.0.9:9902: connect: connection refused",
        "  missing   service-c: no running Envoy found",
      ]);
    });
    it("one summary line naming who is behind", () => {
      assert.equal(
        summarize(report),
        "not every Envoy runs the expected config: 1 lagging (service-a-3); 1 rejected an update (service-a-2); 1 unknown (service-a-4); no Envoy for service-c",
      );
      assert.equal(summarize(buildReport(EXPECTED, [envoys[1]])), "every Envoy runs the expected config (1 asked)");
    });
  });
});
