import { expect } from "chai";
import { FAILED_RUN, METRIC_NAMES, emfLine } from "../handler/metrics";
import { emfProblems } from "./support/emf";

describe("embedded metric format", () => {
  const metrics = {
    AmisTagged: 2,
    SnapshotsTagged: 8,
    ResourcesSkipped: 2,
    TagFailures: 1,
    RunComplete: 1,
    ResourcesListed: 12,
    AmisDeregistered: 0,
    SnapshotsDeleted: 3,
    DeletionFailures: 0,
    UnprovenBackups: 4,
    BackupsDueSoon: 6,
    DeletionsSkipped: 1,
    SweepComplete: 1,
    DeletionBacklog: 2,
    FilterCheckFailures: 0,
  };

  it("writes a line the EMF specification accepts, with every metric and the function name", () => {
    const line = emfLine("TagEC2Backups", "TagEC2Backups", metrics, 1_764_403_200_000);
    expect(emfProblems(line)).to.deep.equal([]);
    const parsed = JSON.parse(line);
    expect(parsed._aws.CloudWatchMetrics[0]).to.deep.equal({
      Namespace: "TagEC2Backups",
      Dimensions: [["FunctionName"]],
      Metrics: METRIC_NAMES.map((Name) => ({ Name, Unit: "Count" })),
    });
    expect(parsed).to.deep.include({ FunctionName: "TagEC2Backups", ...metrics, _aws: parsed._aws });
    expect(parsed._aws.Timestamp).to.equal(1_764_403_200_000);
  });

  it("reports a fatal run as incomplete with nothing done", () => {
    expect(FAILED_RUN).to.deep.equal({
      SweepComplete: 0,
      DeletionBacklog: 0,
      FilterCheckFailures: 0,
      AmisDeregistered: 0,
      SnapshotsDeleted: 0,
      DeletionFailures: 0,
      AmisTagged: 0,
      SnapshotsTagged: 0,
      ResourcesSkipped: 0,
      TagFailures: 0,
      RunComplete: 0,
      ResourcesListed: 0,
      UnprovenBackups: 0,
      BackupsDueSoon: 0,
      DeletionsSkipped: 0,
    });
  });

  it("the checker catches what the specification forbids", () => {
    expect(emfProblems("{}")).to.deep.equal(["no _aws object"]);
    const line = JSON.parse(emfLine("N", "F", metrics, 1));
    delete line.FunctionName;
    line.TagFailures = "1";
    expect(emfProblems(JSON.stringify(line))).to.deep.equal([
      "dimension FunctionName must be a string member of the root",
      "metric TagFailures must be a number member of the root",
    ]);
  });
});
