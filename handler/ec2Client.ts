// The one place the EC2 client is configured, shared by the Lambda and the local runner.
import { EC2Client, type EC2ClientConfig } from "@aws-sdk/client-ec2";

/**
 * Adaptive retry backs off on RequestLimitExceeded and slows the client's own request rate;
 * 10 attempts ride out about a minute of throttling before a call is reported as failed.
 */
export const MAX_ATTEMPTS = 10;

export function createEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({
    retryMode: "adaptive",
    maxAttempts: MAX_ATTEMPTS,
    // Without a request timeout a stalled connection would hold the run until Lambda kills it.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    ...overrides,
  });
}
