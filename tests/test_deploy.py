#!/usr/bin/python3
"""deploy/rugbycodex.yaml, the CloudFormation template: checked against
AWS's resource specification (@aws-cdk/aws-service-spec, tests/cfnspec.py),
every Ref / GetAtt / Sub resolves, and the seed's settings and the gaps it
left hold (min 0, max 3, On-Demand base 1, long polling 20 s, retention 4
days, a dead-letter queue keeping longer, visibility over the heartbeat,
stopTimeout over the worker's shutdown budget, secrets never in plain
environment, least-privilege roles). The checker itself is shown to catch
broken copies. No network."""
import copy
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnspec  # noqa: E402

TEMPLATE = os.path.join(cfnspec.SOURCE_DIR, "deploy", "rugbycodex.yaml")
SPEC = cfnspec.Spec()


def of_type(t, rtype):
    return {n: r for n, r in t["Resources"].items() if r["Type"] == rtype}


def one(t, rtype):
    found = of_type(t, rtype)
    assert len(found) == 1, f"{rtype}: {sorted(found)}"
    return next(iter(found.items()))


class TemplateTest(unittest.TestCase):
    def setUp(self):
        self.t = cfnspec.load_template(TEMPLATE)
        self.params = self.t["Parameters"]
        self.res = self.t["Resources"]

    def default(self, ref):
        """The default value of the parameter a {"Ref": P} names, as a number."""
        self.assertIsInstance(ref, dict, f"{ref!r} should be a parameter")
        return int(self.params[ref["Ref"]]["Default"])

    def container(self):
        _, td = one(self.t, "AWS::ECS::TaskDefinition")
        (c,) = td["Properties"]["ContainerDefinitions"]
        return c

    def flag(self, name):
        cmd = self.container()["Command"]
        self.assertIn(name, cmd, f"the worker's command passes {name}")
        return cmd[cmd.index(name) + 1]

    # ---- the specification and the references ---------------------------
    def test_against_resource_specification(self):
        self.assertGreater(len(SPEC.resources), 1000, "the spec database loaded")
        self.assertEqual(cfnspec.check_against_spec(self.t, SPEC), [])

    def test_references_resolve(self):
        self.assertEqual(cfnspec.check_references(self.t), [])

    def test_checker_catches_broken_copies(self):
        cases = {
            "unknown type": (lambda m: m["Resources"].__setitem__("X", {"Type": "AWS::SQS::Queu"}),
                             "unknown resource type"),
            "misspelt property": (lambda m: m["Resources"]["JobQueue"]["Properties"].__setitem__(
                "VisibilityTimeOut", 600), "no such property"),
            "wrong value type": (lambda m: m["Resources"]["JobQueue"]["Properties"].__setitem__(
                "ReceiveMessageWaitTimeSeconds", "twenty"), "is not a integer"),
            "missing required": (lambda m: m["Resources"]["TaskRole"]["Properties"].pop(
                "AssumeRolePolicyDocument"), "required property AssumeRolePolicyDocument"),
            "nested property": (lambda m: m["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
                                .__setitem__("StopTimeOut", 120), "StopTimeOut: no such property"),
            "bad attribute": (lambda m: m["Outputs"].__setitem__(
                "Y", {"Value": {"Fn::GetAtt": ["JobQueue", "Url"]}}), "has no attribute Url"),
        }
        for label, (mutate, expect) in cases.items():
            with self.subTest(label):
                m = copy.deepcopy(self.t)
                mutate(m)
                problems = cfnspec.check_against_spec(m, SPEC)
                self.assertTrue(any(expect in p for p in problems), problems)
        refs = {
            "Ref": {"Ref": "NoSuchThing"},
            "Sub": {"Fn::Sub": "${NoSuchThing}-x"},
            "GetAtt": {"Fn::GetAtt": ["NoSuchThing", "Arn"]},
        }
        for label, value in refs.items():
            with self.subTest(label):
                m = copy.deepcopy(self.t)
                m["Resources"]["JobQueue"]["Properties"]["QueueName"] = value
                problems = cfnspec.check_references(m)
                self.assertTrue(any("NoSuchThing" in p for p in problems), problems)
        m = copy.deepcopy(self.t)
        m["Parameters"]["Unused"] = {"Type": "String"}
        self.assertIn("parameter Unused is never used", cfnspec.check_references(m))

    # ---- the seed's settings ----------------------------------------------
    def test_seed_capacity(self):
        _, asg = one(self.t, "AWS::AutoScaling::AutoScalingGroup")
        p = asg["Properties"]
        self.assertEqual(int(p["MinSize"]), 0)
        self.assertEqual(self.default(p["MaxSize"]), 3)
        dist = p["MixedInstancesPolicy"]["InstancesDistribution"]
        self.assertEqual(self.default(dist["OnDemandBaseCapacity"]), 1)
        self.assertEqual(self.default(dist["OnDemandPercentageAboveBaseCapacity"]), 0)
        types = [o["InstanceType"] for o in p["MixedInstancesPolicy"]["LaunchTemplate"]["Overrides"]]
        self.assertGreaterEqual(len(types), 3, "several GPU types widen the Spot pools")
        defaults = [self.params[x["Ref"]]["Default"] for x in types]
        self.assertEqual(defaults[0], "g4dn.xlarge")
        self.assertEqual(len(set(defaults)), len(defaults))
        self.assertTrue(all(re.match(r"g\d", d) for d in defaults), defaults)
        _, target = one(self.t, "AWS::ApplicationAutoScaling::ScalableTarget")
        self.assertEqual(int(target["Properties"]["MinCapacity"]), 0)
        self.assertEqual(target["Properties"]["MaxCapacity"], p["MaxSize"], "tasks and instances share one max")

    def test_plans_are_parameter_changes(self):
        """The seed's '4 workers' and '6 workers (4 On-Demand + 2 Spot)' plans
        fit the parameters' constraints: no template edit."""
        for plan in ({"MaxWorkers": 4, "OnDemandBase": 4}, {"MaxWorkers": 6, "OnDemandBase": 4}):
            for name, value in plan.items():
                spec = self.params[name]
                self.assertGreaterEqual(value, spec["MinValue"])
                self.assertLessEqual(value, spec["MaxValue"])

    def test_queue(self):
        q = self.res["JobQueue"]["Properties"]
        dlq = self.res["DeadLetterQueue"]["Properties"]
        self.assertEqual(q["ReceiveMessageWaitTimeSeconds"], 20)
        self.assertEqual(q["MessageRetentionPeriod"], 4 * 86400)
        self.assertGreater(dlq["MessageRetentionPeriod"], q["MessageRetentionPeriod"])
        self.assertEqual(q["RedrivePolicy"]["deadLetterTargetArn"], {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
        self.assertEqual(q["RedrivePolicy"]["maxReceiveCount"], {"Ref": "MaxReceives"})
        self.assertEqual(self.flag("--max-receives"), {"Ref": "MaxReceives"},
                         "the worker gives up at the count the redrive moves the message")

    def test_visibility_covers_heartbeat(self):
        q = self.res["JobQueue"]["Properties"]
        self.assertEqual(self.flag("--visibility"), q["VisibilityTimeout"])
        visibility = self.default(q["VisibilityTimeout"])
        heartbeat = self.default(self.flag("--heartbeat"))
        # A missed heartbeat (one slow SQS call) must not let the message
        # reappear under a running job: two periods and a minute fit.
        self.assertGreaterEqual(visibility, 2 * heartbeat + 60)

    def test_dead_letter_alarm(self):
        alarms = of_type(self.t, "AWS::CloudWatch::Alarm").values()
        on_dlq = [a for a in alarms if a["Properties"].get("Dimensions", [{}])[0].get("Value") ==
                  {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}]
        self.assertEqual(len(on_dlq), 1)
        a = on_dlq[0]["Properties"]
        self.assertEqual(a["MetricName"], "ApproximateNumberOfMessagesVisible")
        self.assertEqual((a["Threshold"], a["ComparisonOperator"]), (0, "GreaterThanThreshold"))
        self.assertTrue(a["AlarmActions"])

    def test_stop_timeout_covers_shutdown_budget(self):
        c = self.container()
        self.assertEqual(c["StopTimeout"], 120, "ECS's most")
        budget = self.params[self.flag("--shutdown-budget")["Ref"]]
        # The worker exits within its budget; ECS kills at stopTimeout.
        self.assertLessEqual(budget["MaxValue"] + 5, c["StopTimeout"])
        # Each child's own SIGTERM deadline (transcode --shutdown-timeout,
        # default 20 s) fits inside the worker's budget.
        self.assertGreaterEqual(int(budget["Default"]), 20 + 10)
        lt = json.dumps(self.res["LaunchTemplate"])
        self.assertIn("ECS_CONTAINER_STOP_TIMEOUT=120s", lt)

    def test_task_definition(self):
        c = self.container()
        self.assertEqual(c["ResourceRequirements"], [{"Type": "GPU", "Value": "1"}])
        self.assertEqual(c["LogConfiguration"]["LogDriver"], "awslogs")
        self.assertEqual(c["HealthCheck"]["Command"][1:], ["/usr/bin/rugbycodex-runner", "health"])
        self.assertEqual(c["Command"][0], "worker")
        self.assertIn("RetentionInDays", self.res["LogGroup"]["Properties"])

    def test_secrets_never_plain_environment(self):
        c = self.container()
        names = {e["Name"] for e in c["Environment"]}
        for n in names:
            self.assertNotRegex(n, r"KEY_ID|SECRET|TOKEN|PASSWORD|SERVICE_KEY", f"{n} belongs in Secrets")
        secrets = {s["Name"]: s["ValueFrom"] for s in c["Secrets"]}
        self.assertEqual(set(secrets), {"RCX_STORAGE_ACCESS_KEY_ID", "RCX_STORAGE_SECRET_ACCESS_KEY",
                                        "SUPABASE_SERVICE_KEY"})
        for v in secrets.values():
            self.assertRegex(v["Fn::Sub"], r"^\$\{(WasabiSecret|SupabaseSecret)\}:[a-z_]+::$")
        self.assertEqual(secrets["RCX_STORAGE_ACCESS_KEY_ID"]["Fn::Sub"], "${WasabiSecret}:access_key_id::")
        self.assertEqual(secrets["RCX_STORAGE_SECRET_ACCESS_KEY"]["Fn::Sub"],
                         "${WasabiSecret}:secret_access_key::")

    def test_sqs_signed_by_the_task_role(self):
        """The Wasabi keys are not AWS credentials: any AWS_* credential or
        region in the task would reach the worker's SQS client ahead of the
        task role (the credentials chain reads the environment first)."""
        c = self.container()
        names = {e["Name"] for e in c["Environment"]} | {s["Name"] for s in c["Secrets"]}
        for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                  "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
            self.assertNotIn(n, names)
        env = {e["Name"]: e["Value"] for e in c["Environment"]}
        self.assertEqual(env["RCX_STORAGE_REGION"], {"Ref": "WasabiRegion"})
        self.assertIn("TaskRoleArn", self.res["TaskDefinition"]["Properties"])

    def test_least_privilege(self):
        role = self.res["TaskRole"]["Properties"]
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        self.assertEqual(actions, {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                   "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                                   "ecs:UpdateTaskProtection", "ecs:GetTaskProtection"})
        for s in statements:
            self.assertNotEqual(s["Resource"], "*")
        self.assertNotIn("ManagedPolicyArns", role)
        ex = self.res["ExecutionRole"]["Properties"]
        ex_statements = [s for p in ex["Policies"] for s in p["PolicyDocument"]["Statement"]]
        (secrets,) = [s for s in ex_statements if s["Action"] == "secretsmanager:GetSecretValue"]
        self.assertEqual(secrets["Resource"], [{"Ref": "WasabiSecret"}, {"Ref": "SupabaseSecret"}])
        wildcard = [s["Action"] for s in ex_statements if s["Resource"] == "*"]
        self.assertEqual(wildcard, ["ecr:GetAuthorizationToken"], "the only action without resource scope")

    def test_instances(self):
        lt = self.res["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
        self.assertEqual(self.params[lt["ImageId"]["Ref"]]["Type"], "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>")
        self.assertRegex(self.params[lt["ImageId"]["Ref"]]["Default"],
                         r"^/aws/service/ecs/optimized-ami/.*/gpu/recommended/image_id$")
        user_data = lt["UserData"]["Fn::Base64"]["Fn::Sub"]
        self.assertIn("ECS_ENABLE_SPOT_INSTANCE_DRAINING=true", user_data)
        self.assertIn("ECS_CLUSTER=${Cluster}", user_data)
        self.assertEqual(lt["MetadataOptions"]["HttpTokens"], "required")

    def test_capacity_provider_protects_busy_instances(self):
        _, cp = one(self.t, "AWS::ECS::CapacityProvider")
        asgp = cp["Properties"]["AutoScalingGroupProvider"]
        self.assertEqual(asgp["ManagedScaling"]["Status"], "ENABLED")
        self.assertEqual(asgp["ManagedTerminationProtection"], "ENABLED")
        _, asg = one(self.t, "AWS::AutoScaling::AutoScalingGroup")
        self.assertIs(asg["Properties"]["NewInstancesProtectedFromScaleIn"], True,
                      "managed termination protection needs it")
        svc = self.res["Service"]["Properties"]
        self.assertEqual(svc["CapacityProviderStrategy"][0]["CapacityProvider"], {"Ref": "CapacityProvider"})
        self.assertNotIn("DesiredCount", svc, "the scaling policies own the count")

    def test_scaling_on_backlog_and_to_zero(self):
        policies = of_type(self.t, "AWS::ApplicationAutoScaling::ScalingPolicy")
        tracking = [p["Properties"] for p in policies.values() if p["Properties"]["PolicyType"] == "TargetTrackingScaling"]
        (tt,) = tracking
        cfg = tt["TargetTrackingScalingPolicyConfiguration"]
        expr = [m for m in cfg["CustomizedMetricSpecification"]["Metrics"] if m.get("ReturnData")]
        self.assertEqual(len(expr), 1)
        self.assertIn("/ tasks", expr[0]["Expression"])
        # scale to zero: an alarm after IdleMinutes of an empty queue sets 0
        idle = self.res["IdleAlarm"]["Properties"]
        self.assertEqual(idle["EvaluationPeriods"], {"Ref": "IdleMinutes"})
        self.assertEqual(int(self.params["IdleMinutes"]["Default"]), 10)
        zero = policies[idle["AlarmActions"][0]["Ref"]]["Properties"]["StepScalingPolicyConfiguration"]
        self.assertEqual(zero["AdjustmentType"], "ExactCapacity")
        self.assertEqual(zero["StepAdjustments"][0]["ScalingAdjustment"], 0)
        # from zero: any visible message adds a task
        waiting = self.res["JobsWaitingAlarm"]["Properties"]
        out = policies[waiting["AlarmActions"][0]["Ref"]]["Properties"]["StepScalingPolicyConfiguration"]
        self.assertEqual(out["StepAdjustments"][0]["ScalingAdjustment"], 1)

    def test_storage_is_parameters(self):
        env = {e["Name"]: e["Value"] for e in self.container()["Environment"]}
        self.assertEqual(env["AWS_ENDPOINT_URL_S3"], {"Ref": "WasabiEndpoint"})
        self.assertEqual(env["RCX_BUCKET"], {"Ref": "WasabiBucket"})
        self.assertEqual(env["RCX_QUEUE_URL"], {"Ref": "JobQueue"})

    def test_every_parameter_documented(self):
        with open(os.path.join(cfnspec.SOURCE_DIR, "docs", "configuration.md"), encoding="utf-8") as f:
            doc = f.read()
        self.assertEqual([p for p in self.params if f"| `{p}` |" not in doc], [])


class DockerfileTest(unittest.TestCase):
    """docker/Dockerfile, read statically (scripts/container-test.sh builds
    and runs it): its packages come from scripts/packages only."""

    def setUp(self):
        with open(os.path.join(cfnspec.SOURCE_DIR, "docker", "Dockerfile"), encoding="utf-8") as f:
            self.text = f.read()
        self.stages = re.split(r"^FROM ", self.text, flags=re.M)[1:]

    def test_two_stages_on_bookworm(self):
        self.assertEqual(len(self.stages), 2)
        self.assertTrue(all(s.startswith("debian:bookworm") for s in self.stages))

    def test_packages_from_shared_lists(self):
        build, final = self.stages
        self.assertIn("/tmp/packages/build.txt", build)
        self.assertNotIn("runtime.txt", build)
        self.assertIn("/tmp/packages/runtime.txt", final)
        self.assertNotIn("build.txt", final)
        installs = re.findall(r"apt-get install .*?&&", self.text, flags=re.S)
        self.assertEqual(len(installs), 2)
        for cmd in installs:
            words = [w for w in re.split(r"[\s\\]+", cmd) if w and not w.startswith("-")]
            # apt-get install $(sed ... list) && ...: no package named inline
            self.assertEqual(words[:2], ["apt-get", "install"])
            self.assertTrue(words[2].startswith("$(sed"), cmd)

    def test_runtime_settings(self):
        final = self.stages[1]
        self.assertIn("NVIDIA_DRIVER_CAPABILITIES=compute,video,utility", final)
        self.assertRegex(final, r"(?m)^USER rcx$")
        self.assertIn('ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/rcx-entrypoint"]', final)
        self.assertIn('CMD ["/usr/bin/rugbycodex-runner", "health"]', final)

    def test_nvrtc_for_cuda_scaling(self):
        # nvcodec registers cudascale only when GStreamer 1.22 can dlopen NVRTC,
        # by GST_CUDA_NVRTC_LIBNAME or else the unversioned libnvrtc.so that no
        # runtime package ships: the name must be the SONAME of the package
        # the image installs, from a component the image enables
        final = self.stages[1]
        m = re.search(r"GST_CUDA_NVRTC_LIBNAME=libnvrtc\.so\.(\d+\.\d+)\b", final)
        self.assertIsNotNone(m, "GST_CUDA_NVRTC_LIBNAME is set in the final stage")
        with open(os.path.join(cfnspec.SOURCE_DIR, "scripts", "packages", "image.txt"), encoding="utf-8") as f:
            packages = re.sub(r"#.*", "", f.read()).split()
        self.assertIn(f"libnvrtc{m.group(1)}", packages)
        self.assertIn("main non-free", final)


if __name__ == "__main__":
    unittest.main(verbosity=2)
