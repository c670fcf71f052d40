import { expect } from "chai";
import { METRIC_NAMES } from "../handler/metrics";
import { buildDashboard } from "../infra/dashboard";

// The dashboard body's structure, as CloudWatch's PutDashboard validates it.
describe("dashboard body", () => {
  const body = buildDashboard({
    region: "eu-west-1",
    functionName: "TagEC2Backups",
    metricsNamespace: "Ops/Backups",
  });

  it("places every widget on the 24-column grid without overlap", () => {
    const cells = new Set<string>();
    for (const w of body.widgets) {
      expect(w.x + w.width, JSON.stringify(w)).to.be.at.most(24);
      for (let x = w.x; x < w.x + w.width; x++) {
        for (let y = w.y; y < w.y + w.height; y++) {
          expect(cells.has(`${x},${y}`), `overlap at ${x},${y}`).to.be.false;
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it("gives every metric widget a title, the region, a period and well-formed metric lines", () => {
    for (const w of body.widgets) {
      expect(w.type).to.equal("metric");
      expect(w.properties).to.include({ region: "eu-west-1", period: 86400, view: "timeSeries" });
      expect(w.properties.title).to.be.a("string").and.not.be.empty;
      for (const line of w.properties.metrics) {
        expect(
          line.slice(0, 4).every((part) => typeof part === "string"),
          JSON.stringify(line),
        ).to.be.true;
        expect(line.slice(2, 4)).to.deep.equal(["FunctionName", "TagEC2Backups"]);
      }
    }
  });

  it("charts every metric the handler emits, from its namespace", () => {
    const ours = body.widgets
      .flatMap((w) => w.properties.metrics)
      .filter((line) => line[0] === "Ops/Backups");
    expect(new Set(ours.map((line) => line[1]))).to.deep.equal(new Set(METRIC_NAMES));
  });
});
