// The demo's account: a few AMIs and snapshots, one for each thing the tagger does, named for it.
// Seeded through the SDK, so it is the same account on moto, the embedded emulator or an endpoint
// of your own; `npm run demo` and `npm run tag -- --endpoint embedded` both start from it.
import type { EC2Client } from "@aws-sdk/client-ec2";
import { startEmbedded } from "./emulator/server";
import type { Emulator } from "./emulators";
import { createImage, createSnapshot, emulatorClient } from "./seedAccount";

export async function seedDemoAccount(ec2: EC2Client): Promise<void> {
  await createImage(ec2, "web-nightly", { Name: "web-nightly (AMI, untagged)" });
  await createImage(ec2, "db-weekly", {
    Name: "db-weekly (AMI, tagged under 30 days)",
    Retention: "30days",
    DeleteOn: "2026-12-20",
  });
  await createSnapshot(ec2, { Name: "db-daily-1 (untagged)" });
  await createSnapshot(ec2, { Name: "db-daily-2 (untagged)" });
  await createSnapshot(ec2, {
    Name: "logs-archive (tagged under 30 days)",
    Retention: "30days",
    DeleteOn: "2026-12-10",
  });
  await createSnapshot(ec2, { Name: "legal-hold (tagged by hand)", Retention: "keep" });
  await createSnapshot(ec2, { Name: "migration (someone else's DeleteOn)", DeleteOn: "2027-06-30" });
  await createSnapshot(ec2, { Name: "terraform-managed (own ManagedBy tag)", ManagedBy: "terraform" });
}

/** A fresh embedded emulator holding the demo's account: for trying the tagger without AWS or Python. */
export async function startDemoEmbedded(region = "us-east-1"): Promise<Emulator> {
  const emulator = await startEmbedded({ region });
  const ec2 = emulatorClient(emulator.endpoint, region);
  try {
    await seedDemoAccount(ec2);
  } catch (error) {
    await emulator.stop();
    throw error;
  } finally {
    ec2.destroy();
  }
  return emulator;
}
