"""The SQS fake (tests/fixtures/sqs_fake.py) held to three real clients.

Each scenario runs with boto3 and the JS SDK, against a fake started for the test:
  - boto3 from Debian (python3-boto3 1.26 / botocore 1.29: the Query
    protocol, form-encoded requests and XML replies);
  - the AWS CLI from Debian (/usr/bin/aws, 2.9: Query protocol too; one
    scenario through every operation, as each call is a new process);
  - the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs in tests/node: the
    JSON protocol, with its MD5 checks of bodies and attributes), driven
    through tests/node/sqs-client.mjs.
Where a client and the fake disagree, the client is right: errors are
asserted the way each client reports them.
"""
import json
import os
import subprocess
import threading
import time
import unittest

import boto3
import botocore
from botocore.config import Config

import rcxtest
from sqs_fake import SqsFake

AWS_CLI = "/usr/bin/aws"    # Debian's awscli (a pyenv shim may come first in PATH)
NODE_SCRIPT = os.path.join(rcxtest.SOURCE_DIR, "tests", "node", "sqs-client.mjs")
BODY = '{"job_id": "j-1", "text": "é <&> \\"quoted\\" \'single\'\\n\\ttab 🏉"}'


class ClientError(Exception):
    """An error as the client reported it: `code` is what the client calls
    the error (boto3's Error.Code, the CLI's "(Code)", the JS SDK's name)."""

    def __init__(self, code, status=None, detail=""):
        super().__init__(f"{code} ({status}): {detail}")
        self.code = code
        self.status = status


# ---- the three clients, one interface ---------------------------------------

class Boto3Client:
    name = "boto3"

    def __init__(self, fake, secret=None, signed=True, attempts=3, read_timeout=60):
        extra = {} if signed else {"signature_version": botocore.UNSIGNED}
        self.c = boto3.client("sqs", endpoint_url=fake.endpoint, region_name=fake.region,
                              aws_access_key_id=fake.key, aws_secret_access_key=secret or fake.secret,
                              config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                            read_timeout=read_timeout, **extra))
        self.not_found_code = "AWS.SimpleQueueService.NonExistentQueue"
        self.purge_code = "AWS.SimpleQueueService.PurgeQueueInProgress"

    def call(self, op, **kw):
        method = "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_")
        try:
            out = getattr(self.c, method)(**kw)
        except botocore.exceptions.ClientError as e:
            err = e.response["Error"]
            raise ClientError(err["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                              err.get("Message", ""))
        out.pop("ResponseMetadata", None)
        return out

    def close(self):
        self.c.close()


class CliClient:
    """`aws sqs <op>` with each input as its option (lists and maps as JSON)."""

    def __init__(self, fake):
        self.fake = fake
        self.env = fake.env()

    def call(self, op, **kw):
        sub = "".join("-" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("-")
        args = [AWS_CLI, "sqs", sub, "--endpoint-url", self.fake.endpoint, "--output", "json",
                "--cli-read-timeout", "40"]
        for k, v in kw.items():
            opt = "--" + "".join("-" + ch.lower() if ch.isupper() else ch for ch in k).lstrip("-")
            if isinstance(v, (list, dict)):
                args += [opt, json.dumps(v)]
            else:
                args += [opt, str(v)]
        p = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            # "An error occurred (Code) when calling the Op operation: message"
            err = p.stderr.strip()
            code = err.split("(", 1)[1].split(")", 1)[0] if "An error occurred (" in err else err
            raise ClientError(code, None, err)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def close(self):
        pass


class JsClient:
    name = "js-sdk-v3"
    not_found_code = "QueueDoesNotExist"
    purge_code = "PurgeQueueInProgress"

    def __init__(self, fake):
        env = fake.env()
        env["NODE_NO_WARNINGS"] = "1"
        self.p = subprocess.Popen(["node", NODE_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env=env, text=True, cwd=os.path.dirname(NODE_SCRIPT))
        self.lock = threading.Lock()

    def call(self, op, **kw):
        with self.lock:
            self.p.stdin.write(json.dumps({"op": op, "input": kw}) + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"sqs-client.mjs exited ({self.p.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            e = answer["error"]
            raise ClientError(e["name"], e["status"], e["message"])
        return answer["ok"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(30)


# ---- the scenarios ------------------------------------------------------------

class Scenarios:
    """Mixed into one TestCase per client; make_client(fake) builds it."""

    def setUp(self):
        super().setUp()
        self.fake = SqsFake().start()
        self.addCleanup(self.fake.stop)
        self.client = self.make_client(self.fake)
        self.addCleanup(self.client.close)

    def receive(self, url, **kw):
        kw.setdefault("AttributeNames", ["All"])
        return self.client.call("ReceiveMessage", QueueUrl=url, **kw).get("Messages", [])

    def count(self, url, name="ApproximateNumberOfMessages"):
        attrs = self.client.call("GetQueueAttributes", QueueUrl=url, AttributeNames=[name])
        return int(attrs["Attributes"][name])

    def test_send_receive_delete(self):
        url = self.client.call("CreateQueue", QueueName="jobs")["QueueUrl"]
        self.assertEqual(url, self.fake.queue_url("jobs"))
        self.assertEqual(self.client.call("GetQueueUrl", QueueName="jobs")["QueueUrl"], url)
        sent = self.client.call("SendMessage", QueueUrl=url, MessageBody=BODY)
        msgs = self.receive(url)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m["MessageId"], sent["MessageId"])
        self.assertEqual(m["Body"], BODY)
        self.assertEqual(m["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertGreaterEqual(int(m["Attributes"]["ApproximateFirstReceiveTimestamp"]),
                                int(m["Attributes"]["SentTimestamp"]))
        self.assertEqual(self.count(url, "ApproximateNumberOfMessagesNotVisible"), 1)
        self.client.call("DeleteMessage", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.fake.messages("jobs"), [])
        # deleting again with the same handle succeeds (SQS: idempotent)
        self.client.call("DeleteMessage", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])
        # every request carried a good signature
        self.assertTrue(all(e["sig"] == "ok" for e in self.fake.requests()), self.fake.requests())

    def test_visibility_expiry_and_redelivery(self):
        url = self.client.call("CreateQueue", QueueName="vis", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
        self.client.call("SendMessage", QueueUrl=url, MessageBody="m")
        first = self.receive(url)[0]
        self.assertEqual(self.receive(url, WaitTimeSeconds=0), [])     # in flight
        start = time.monotonic()
        second = self.receive(url, WaitTimeSeconds=10)[0]   # back after its 1 s
        self.assertLess(time.monotonic() - start, 8)
        self.assertEqual(second["MessageId"], first["MessageId"])
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        self.assertNotEqual(second["ReceiptHandle"], first["ReceiptHandle"])
        # the old handle does not delete (AWS: succeeds, message stays) ...
        self.client.call("DeleteMessage", QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.assertEqual(len(self.fake.messages("vis")), 1)
        # ... the latest one does
        self.client.call("DeleteMessage", QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
        self.assertEqual(self.fake.messages("vis"), [])

    def test_change_message_visibility(self):
        url = self.client.call("CreateQueue", QueueName="cmv")["QueueUrl"]
        self.client.call("SendMessage", QueueUrl=url, MessageBody="m")
        m = self.receive(url, VisibilityTimeout=600)[0]
        self.client.call("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                         VisibilityTimeout=0)
        again = self.receive(url, VisibilityTimeout=600)
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0]["Attributes"]["ApproximateReceiveCount"], "2")
        # the first receive's handle can no longer extend the message
        with self.assertRaises(ClientError) as cm:
            self.client.call("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                             VisibilityTimeout=30)
        self.assertEqual(cm.exception.code, "InvalidParameterValue")
        # out of range
        with self.assertRaises(ClientError) as cm:
            self.client.call("ChangeMessageVisibility", QueueUrl=url,
                             ReceiptHandle=again[0]["ReceiptHandle"], VisibilityTimeout=43201)
        self.assertEqual(cm.exception.code, "InvalidParameterValue")
        # a handle that is not SQS's
        with self.assertRaises(ClientError) as cm:
            self.client.call("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle="garbage",
                             VisibilityTimeout=30)
        self.assertEqual(cm.exception.code, "ReceiptHandleIsInvalid")
        self.client.call("ChangeMessageVisibility", QueueUrl=url,
                         ReceiptHandle=again[0]["ReceiptHandle"], VisibilityTimeout=900)
        self.assertEqual(self.count(url, "ApproximateNumberOfMessagesNotVisible"), 1)

    def test_long_poll_wakes_up(self):
        url = self.client.call("CreateQueue", QueueName="poll")["QueueUrl"]
        result = {}

        def poll():
            start = time.monotonic()
            result["msgs"] = self.receive(url, WaitTimeSeconds=20)
            result["at"] = time.monotonic()
            result["took"] = result["at"] - start

        t = threading.Thread(target=poll)
        t.start()
        self.fake.wait_for_waiting(1)
        sent_at = time.monotonic()
        self.fake._dispatch("SendMessage", {"QueueUrl": url, "MessageBody": "wake"})
        t.join(30)
        self.assertEqual([m["Body"] for m in result["msgs"]], ["wake"])
        # answered on the send, not at the end of the 20 s wait
        self.assertLess(result["at"] - sent_at, 5)
        self.assertLess(result["took"], 15)

    def test_redrive_to_dead_letter_queue(self):
        dlq = self.client.call("CreateQueue", QueueName="jobs-dlq")["QueueUrl"]
        arn = self.client.call("GetQueueAttributes", QueueUrl=dlq,
                               AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = self.client.call("CreateQueue", QueueName="jobs")["QueueUrl"]
        policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "2"})
        self.client.call("SetQueueAttributes", QueueUrl=url, Attributes={"RedrivePolicy": policy})
        got = self.client.call("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(json.loads(got["RedrivePolicy"]), {"deadLetterTargetArn": arn, "maxReceiveCount": 2})
        sent = self.client.call("SendMessage", QueueUrl=url, MessageBody="poison")
        for n in (1, 2):
            m = self.receive(url, VisibilityTimeout=0)
            self.assertEqual(m[0]["Attributes"]["ApproximateReceiveCount"], str(n))
        self.assertEqual(self.receive(url, VisibilityTimeout=0), [])    # moved, not delivered
        self.assertEqual(self.count(url), 0)
        self.assertEqual(self.count(dlq), 1)
        dead = self.receive(dlq)
        self.assertEqual(dead[0]["MessageId"], sent["MessageId"])
        self.assertEqual(dead[0]["Body"], "poison")
        # a policy naming a queue that does not exist is refused
        with self.assertRaises(ClientError) as cm:
            self.client.call("SetQueueAttributes", QueueUrl=url, Attributes={"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn + "-missing", "maxReceiveCount": 5})})
        self.assertEqual(cm.exception.code, "InvalidParameterValue")

    def test_purge(self):
        url = self.client.call("CreateQueue", QueueName="purge")["QueueUrl"]
        for i in range(3):
            self.client.call("SendMessage", QueueUrl=url, MessageBody=f"m{i}")
        self.assertEqual(self.count(url), 3)
        self.client.call("PurgeQueue", QueueUrl=url)
        self.assertEqual(self.count(url), 0)
        with self.assertRaises(ClientError) as cm:     # one purge per 60 s
            self.client.call("PurgeQueue", QueueUrl=url)
        self.assertEqual(cm.exception.code, self.client.purge_code)

    def test_queue_does_not_exist(self):
        with self.assertRaises(ClientError) as cm:
            self.client.call("GetQueueUrl", QueueName="nope")
        self.assertEqual(cm.exception.code, self.client.not_found_code)
        with self.assertRaises(ClientError) as cm:
            self.client.call("SendMessage", QueueUrl=self.fake.queue_url("nope"), MessageBody="x")
        self.assertEqual(cm.exception.code, self.client.not_found_code)

    def test_invalid_body_refused(self):
        url = self.client.call("CreateQueue", QueueName="bodies")["QueueUrl"]
        with self.assertRaises(ClientError) as cm:
            self.client.call("SendMessage", QueueUrl=url, MessageBody="nul \x00 byte")
        self.assertEqual(cm.exception.code, "InvalidMessageContents")


class Boto3Test(Scenarios, unittest.TestCase):
    make_client = staticmethod(Boto3Client)

    def test_unsigned_and_missigned_requests_fail(self):
        self.client.call("CreateQueue", QueueName="auth")
        with self.assertRaises(ClientError) as cm:
            Boto3Client(self.fake, signed=False).call("GetQueueUrl", QueueName="auth")
        self.assertEqual((cm.exception.code, cm.exception.status), ("MissingAuthenticationToken", 403))
        with self.assertRaises(ClientError) as cm:
            Boto3Client(self.fake, secret="wrong").call("GetQueueUrl", QueueName="auth")
        self.assertEqual((cm.exception.code, cm.exception.status), ("SignatureDoesNotMatch", 403))
        self.assertEqual([e["sig"] for e in self.fake.requests("GetQueueUrl")][-1],
                         "bad: The request signature we calculated does not match the signature you provided.")

    def test_faults_are_retried_by_the_client(self):
        url = self.client.call("CreateQueue", QueueName="faults")["QueueUrl"]
        self.fake.fail_next(2, status=500, code="InternalError", op="SendMessage")
        self.client.call("SendMessage", QueueUrl=url, MessageBody="x")
        self.assertEqual([e["status"] for e in self.fake.requests("SendMessage")], [500, 500, 200])
        self.fake.reset_next(1, op="GetQueueAttributes")
        self.assertEqual(self.count(url), 1)


    def test_refuse_and_stall(self):
        url = self.client.call("CreateQueue", QueueName="down")["QueueUrl"]
        once = Boto3Client(self.fake, attempts=1, read_timeout=1)
        self.addCleanup(once.close)
        self.fake.refuse()
        with self.assertRaises(botocore.exceptions.EndpointConnectionError):
            once.call("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])
        self.fake.accept()      # same port, queues kept
        self.assertEqual(self.count(url), 0)
        self.fake.stall_next(1, 5, op="SendMessage")
        with self.assertRaises(botocore.exceptions.ReadTimeoutError):
            once.call("SendMessage", QueueUrl=url, MessageBody="late")
        self.fake.clear_faults()
        once.call("SendMessage", QueueUrl=url, MessageBody="on time")
        # the stalled send was served once the stall ended (as a slow SQS would)
        self.fake.wait_for_log("SendMessage", 2)
        self.assertEqual(sorted(m["body"] for m in self.fake.messages("down")), ["late", "on time"])


class CliTest(unittest.TestCase):
    """The CLI starts a Python process per call (seconds each on a loaded
    machine): one scenario walks every operation once. Timing-dependent
    behaviour (expiry, long polls) is covered above by boto3, whose Query
    protocol the CLI shares."""

    def setUp(self):
        self.fake = SqsFake().start()
        self.addCleanup(self.fake.stop)
        self.cli = CliClient(self.fake)

    def test_every_operation(self):
        dlq = self.cli.call("CreateQueue", QueueName="jobs-dlq")["QueueUrl"]
        url = self.cli.call("CreateQueue", QueueName="jobs", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": self.fake.queue_arn("jobs-dlq"),
                                         "maxReceiveCount": "1"})})["QueueUrl"]
        sent = self.cli.call("SendMessage", QueueUrl=url, MessageBody=BODY)
        m = self.cli.call("ReceiveMessage", QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=5,
                          VisibilityTimeout=600)["Messages"][0]
        self.assertEqual((m["MessageId"], m["Body"], m["Attributes"]["ApproximateReceiveCount"]),
                         (sent["MessageId"], BODY, "1"))
        self.cli.call("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                      VisibilityTimeout=0)
        # received once already (maxReceiveCount 1): the next receive moves it
        self.assertEqual(self.cli.call("ReceiveMessage", QueueUrl=url), {})
        dead = self.cli.call("ReceiveMessage", QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
        self.assertEqual(dead["MessageId"], sent["MessageId"])
        self.cli.call("DeleteMessage", QueueUrl=dlq, ReceiptHandle=dead["ReceiptHandle"])
        self.assertEqual(self.fake.messages("jobs-dlq"), [])
        self.cli.call("SendMessage", QueueUrl=url, MessageBody="x")
        self.cli.call("PurgeQueue", QueueUrl=url)
        attrs = self.cli.call("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attrs["ApproximateNumberOfMessages"], "0")
        with self.assertRaises(ClientError) as cm:
            self.cli.call("GetQueueUrl", QueueName="nope")
        self.assertEqual(cm.exception.code, "AWS.SimpleQueueService.NonExistentQueue")
        self.assertEqual({e["protocol"] for e in self.fake.requests()}, {"query"})
        self.assertTrue(all(e["sig"] == "ok" for e in self.fake.requests()))


class JsSdkTest(Scenarios, unittest.TestCase):
    make_client = staticmethod(JsClient)

    def test_json_protocol_and_throttling_retried(self):
        url = self.client.call("CreateQueue", QueueName="proto")["QueueUrl"]
        self.assertEqual({e["protocol"] for e in self.fake.requests()}, {"json"})
        # RequestThrottled comes with HTTP 403: the SDK still retries it
        self.fake.throttle_next(2, op="SendMessage")
        self.client.call("SendMessage", QueueUrl=url, MessageBody="x")
        self.assertEqual([e["code"] for e in self.fake.requests("SendMessage")],
                         ["RequestThrottled", "RequestThrottled", None])

    def test_cross_protocol_bodies(self):
        """What the CLI (Query) sends, the JS SDK (JSON) receives unchanged."""
        url = self.client.call("CreateQueue", QueueName="cross")["QueueUrl"]
        CliClient(self.fake).call("SendMessage", QueueUrl=url, MessageBody=BODY)
        self.assertEqual(self.receive(url)[0]["Body"], BODY)


if __name__ == "__main__":
    rcxtest.main()
