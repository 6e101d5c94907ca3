"""Checks a CloudFormation template against AWS's resource specification
as the npm package @aws-cdk/aws-service-spec ships it (db.json.gz, the
database the CDK generates its L1 classes from), and resolves its
references. Used by tests/test_deploy.py; runnable on its own:

    python3 tests/cfnspec.py deploy/rugbycodex.yaml

The database (schema.resource / schema.typeDefinition entities): each
resource has cloudFormationType, properties {name: {type, required,
previousTypes}} and attributes {name: {type}}; a type is {type: string |
integer | number | boolean | json | date-time | tag | array | map | ref |
union}, arrays and maps have `element`, refs point at a typeDefinition
($ref = its $id, with properties of its own), unions list `types`.
"""
import gzip
import json
import os
import re
import sys

import yaml

SOURCE_DIR = os.environ.get("RCX_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_DB = os.path.join(SOURCE_DIR, "tests", "node", "node_modules", "@aws-cdk", "aws-service-spec", "db.json.gz")

PSEUDO = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
          "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}


# ---- YAML with CloudFormation's short-form tags -----------------------------
class _Loader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else "Fn::" + suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


# ---- the specification ------------------------------------------------------
class Spec:
    def __init__(self, path=SPEC_DB):
        if not os.path.exists(path):
            raise RuntimeError(f"{path} is missing: run scripts/setup.sh (npm ci in tests/node)")
        with gzip.open(path) as f:
            schema = json.load(f)["schema"]
        self.resources = {r["cloudFormationType"]: r for r in schema["resource"]["entities"]}
        self.types = {t["$id"]: t for t in schema["typeDefinition"]["entities"]}


def is_intrinsic(v):
    return isinstance(v, dict) and len(v) == 1 and (next(iter(v)) == "Ref" or next(iter(v)).startswith("Fn::"))


def _matches(spec, t, v, where, errors):
    """True when value v fits type t; appends the reasons it does not."""
    if is_intrinsic(v):
        return True  # its value is known at deploy time; the references are checked apart
    kind = t.get("type")
    if kind == "string" or kind == "date-time":
        ok = isinstance(v, str)
    elif kind == "integer":
        ok = (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and re.fullmatch(r"-?\d+", v))
    elif kind == "number":
        ok = (isinstance(v, (int, float)) and not isinstance(v, bool)) or (
            isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v))
    elif kind == "boolean":
        ok = isinstance(v, bool) or v in ("true", "false")
    elif kind == "json":
        ok = isinstance(v, (dict, list, str))
    elif kind == "tag":
        ok = isinstance(v, dict) and set(v) == {"Key", "Value"}
    elif kind == "array":
        if not isinstance(v, list):
            ok = False
        else:
            return all([_check_value(spec, t["element"], e, f"{where}[{i}]", errors) for i, e in enumerate(v)])
    elif kind == "map":
        if not isinstance(v, dict):
            ok = False
        else:
            return all([_check_value(spec, t["element"], e, f"{where}.{k}", errors) for k, e in v.items()])
    elif kind == "ref":
        if not isinstance(v, dict):
            ok = False
        else:
            return _check_props(spec, spec.types[t["reference"]["$ref"]]["properties"], v, where, errors)
    elif kind == "union":
        for u in t["types"]:
            if _matches(spec, u, v, where, []):
                return True
        ok = False
    else:
        errors.append(f"{where}: the spec has a type this checker does not know: {t}")
        return False
    if not ok:
        errors.append(f"{where}: {v!r} is not a {kind}")
    return bool(ok)


def _check_value(spec, t, v, where, errors):
    return _matches(spec, t, v, where, errors)


def _check_props(spec, props, value, where, errors):
    before = len(errors)
    for name, v in value.items():
        if name not in props:
            errors.append(f"{where}.{name}: no such property (known: {', '.join(sorted(props))})")
            continue
        p = props[name]
        attempt = []
        if _matches(spec, p["type"], v, f"{where}.{name}", attempt):
            continue
        if any(_matches(spec, pt, v, f"{where}.{name}", []) for pt in p.get("previousTypes", [])):
            continue
        errors.extend(attempt)
    for name, p in props.items():
        if p.get("required") and name not in value:
            errors.append(f"{where}: required property {name} is missing")
    return len(errors) == before


def check_against_spec(template, spec):
    """Every resource type exists, every property name exists with a value of
    its type, every required property is there, every GetAtt names an
    attribute of its resource's type. Returns the list of problems."""
    errors = []
    resources = template.get("Resources", {})
    for name, res in resources.items():
        rtype = res.get("Type")
        r = spec.resources.get(rtype)
        if r is None:
            errors.append(f"{name}: unknown resource type {rtype}")
            continue
        _check_props(spec, r["properties"], res.get("Properties", {}), name, errors)
    for where, att in find_getatts(template):
        target, attr = att
        res = resources.get(target)
        if res is None or res.get("Type") not in spec.resources:
            continue  # reported by check_references / above
        if attr not in spec.resources[res["Type"]]["attributes"]:
            errors.append(f"{where}: {res['Type']} has no attribute {attr}")
    return errors


# ---- references -------------------------------------------------------------
def walk(node, where=""):
    """Yields (where, intrinsic name, argument) for each intrinsic function."""
    if isinstance(node, dict):
        if is_intrinsic(node):
            k, v = next(iter(node.items()))
            yield where, k, v
        for k, v in node.items():
            yield from walk(v, f"{where}.{k}" if where else k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{where}[{i}]")


def find_getatts(template):
    for where, fn, arg in walk(template.get("Resources", {})) :
        if fn == "Fn::GetAtt":
            yield where, (arg.split(".", 1) if isinstance(arg, str) else arg)
    for where, fn, arg in walk(template.get("Outputs", {}), "Outputs"):
        if fn == "Fn::GetAtt":
            yield where, (arg.split(".", 1) if isinstance(arg, str) else arg)


SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


def check_references(template):
    """Every Ref, GetAtt, Sub variable, Condition and DependsOn resolves to
    a parameter, resource, pseudo parameter or condition of the template;
    every parameter is used. Returns the list of problems."""
    errors = []
    params = set(template.get("Parameters", {}))
    resources = set(template.get("Resources", {}))
    conditions = set(template.get("Conditions", {}))
    used = set()

    def ref_ok(name, where, local=()):
        if name in params:
            used.add(name)
        elif name not in resources and name not in PSEUDO and name not in local:
            errors.append(f"{where}: Ref to unknown {name}")

    for where, fn, arg in walk({k: template.get(k, {}) for k in ("Resources", "Outputs", "Conditions")}):
        if fn == "Ref":
            ref_ok(arg, where)
        elif fn == "Fn::GetAtt":
            target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
            if target not in resources:
                errors.append(f"{where}: GetAtt of unknown resource {target}")
        elif fn == "Fn::Sub":
            text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for var in SUB_VAR.findall(text):
                base = var.split(".", 1)[0]
                if "." in var and base in resources:
                    continue
                ref_ok(var, f"{where} (${{{var}}})", local)
        elif fn == "Fn::If":
            if arg[0] not in conditions:
                errors.append(f"{where}: Fn::If on unknown condition {arg[0]}")
    for name, res in template.get("Resources", {}).items():
        if "Condition" in res and res["Condition"] not in conditions:
            errors.append(f"{name}: unknown condition {res['Condition']}")
        deps = res.get("DependsOn", [])
        for d in [deps] if isinstance(deps, str) else deps:
            if d not in resources:
                errors.append(f"{name}: DependsOn unknown {d}")
    for p in sorted(params - used):
        errors.append(f"parameter {p} is never used")
    return errors


def main(argv):
    t = load_template(argv[1])
    problems = check_against_spec(t, Spec()) + check_references(t)
    for p in problems:
        print(p)
    print(f"{argv[1]}: {len(t.get('Resources', {}))} resources, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
