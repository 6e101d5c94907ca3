// A real SQS client (the AWS SDK for JavaScript v3, JSON protocol) driven
// line by line by tests/test_sqs_fake.py: each stdin line is
// {"op": "SendMessage", "input": {...}}; each answer is one stdout line,
// {"ok": output} or {"error": {name, code, status, message}} as the SDK
// reports it. Endpoint, region and credentials come from the environment
// (AWS_ENDPOINT_URL_SQS, AWS_REGION, AWS_ACCESS_KEY_ID, ...), as for any
// SDK program.
//
// SPDX-License-Identifier: LGPL-2.1-or-later
import * as readline from "node:readline";
import * as sqs from "@aws-sdk/client-sqs";

const client = new sqs.SQSClient({
  endpoint: process.env.AWS_ENDPOINT_URL_SQS,
  region: process.env.AWS_REGION,
  maxAttempts: Number(process.env.SQS_MAX_ATTEMPTS || 3),
});

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  let answer;
  try {
    const { op, input } = JSON.parse(line);
    const Command = sqs[`${op}Command`];
    if (!Command) throw new Error(`no command ${op}`);
    const out = await client.send(new Command(input));
    delete out.$metadata;
    answer = { ok: out };
  } catch (e) {
    answer = {
      error: {
        name: e.name,
        code: e.Code ?? null,
        status: e.$metadata?.httpStatusCode ?? null,
        attempts: e.$metadata?.attempts ?? null,
        message: e.message,
      },
    };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
