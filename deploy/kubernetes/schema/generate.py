#!/usr/bin/python3
"""Writes k8s-1.36.schema.json: the JSON schema of the Kubernetes API
objects deploy/kubernetes uses (and every type they contain), so that
tests/python/test_kubernetes_manifests.py validates the manifests offline.

Source: the Kubernetes 1.36 OpenAPI definitions as the official Python
client carries them (kubernetes-client/python, KUBERNETES_BRANCH
release-1.36, client 36.0.0; Apache-2.0, like Kubernetes): one model file
per definition, with each field's JSON name (attribute_map), its type
(openapi_types) and whether it is required (a field without a default).
The full OpenAPI document is 4 MB; this keeps only the definitions the
manifests reach, without descriptions.

What the schema says and the API server also says: field names (unknown
fields are errors, as with `kubectl apply --validate=strict`), types,
required fields, and the enums the definitions' descriptions list for the
few fields below (ENUMS). What only the API server checks (names' syntax,
cross-field rules such as procMount Unmasked needing hostUsers false) is
not here; tests/python/test_kubernetes_manifests.py checks the rules v6lab
relies on itself.

Run again to update: generate.py PATH-TO-A-CHECKOUT-OF-kubernetes-client/python
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

VERSION = "1.36"
# apiVersion, kind -> the model that defines the object.
ROOTS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Service"): "V1Service",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("apps/v1", "StatefulSet"): "V1StatefulSet",
    ("networking.k8s.io/v1", "NetworkPolicy"): "V1NetworkPolicy",
    ("rbac.authorization.k8s.io/v1", "Role"): "V1Role",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "V1RoleBinding",
}
# Enums as the definitions' descriptions give them (the client drops enums).
ENUMS = {
    ("V1SeccompProfile", "type"): ["Localhost", "RuntimeDefault", "Unconfined"],
    ("V1AppArmorProfile", "type"): ["Localhost", "RuntimeDefault", "Unconfined"],
    ("V1SecurityContext", "procMount"): ["Default", "Unmasked"],
    ("V1StatefulSetSpec", "podManagementPolicy"): ["OrderedReady", "Parallel"],
    ("V1Container", "imagePullPolicy"): ["Always", "IfNotPresent", "Never"],
    ("V1ServiceSpec", "type"): ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
    ("V1PodSpec", "restartPolicy"): ["Always", "Never", "OnFailure"],
}
MODELS = "kubernetes/client/models"


def _files(root: Path) -> dict[str, Path]:
    """Model class name -> its file (V1IPBlock is in v1_ip_block.py)."""
    out = {}
    for f in (root / MODELS).glob("*.py"):
        for m in re.finditer(r"^class (\w+)\(BaseModel\)", f.read_text(), re.M):
            out[m.group(1)] = f
    return out


def _model(file: Path, model: str) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """(json name -> type, python name -> json name, required json names)."""
    tree = ast.parse(file.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == model)
    types: dict[str, str] = {}
    names: dict[str, str] = {}
    required: set[str] = set()
    optional_py: set[str] = set()
    for node in cls.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        target = node.target.id
        if target in ("openapi_types", "attribute_map"):
            value = ast.literal_eval(node.value)
            (types if target == "openapi_types" else names).update(value)
        elif ast.unparse(node.annotation).startswith("Optional["):
            optional_py.add(target)
    for py, js in names.items():
        if py not in optional_py:
            required.add(js)
    return {names[k]: v for k, v in types.items()}, names, required


def _type(t: str, todo: list[str]) -> dict:
    if t.startswith("List[") and t.endswith("]"):
        return {"type": "array", "items": _type(t[5:-1], todo)}
    if t.startswith("Dict[str, ") and t.endswith("]"):
        return {"type": "object", "additionalProperties": _type(t[10:-1], todo)}
    simple = {"str": {"type": "string"}, "int": {"type": "integer"}, "bool": {"type": "boolean"},
              "float": {"type": "number"}, "datetime": {"type": "string"},
              "date": {"type": "string"}, "bytearray": {"type": "string"},
              "bytes": {"type": "string"}, "Any": {},
              # IntOrString and free-form objects.
              "object": {"type": ["string", "integer", "object", "array", "boolean", "number"]}}
    if t in simple:
        return dict(simple[t])
    todo.append(t)
    return {"$ref": f"#/definitions/{t}"}


def generate(root: Path) -> dict:
    definitions: dict[str, dict] = {}
    files = _files(root)
    todo = list(ROOTS.values())
    while todo:
        model = todo.pop()
        if model in definitions:
            continue
        types, _names, required = _model(files[model], model)
        props = {}
        for name, t in sorted(types.items()):
            props[name] = _type(t, todo)
            if (model, name) in ENUMS:
                props[name]["enum"] = ENUMS[(model, name)]
        d = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            d["required"] = sorted(required)
        definitions[model] = d
    for (api, kind), model in ROOTS.items():
        definitions[model]["properties"]["apiVersion"] = {"const": api}
        definitions[model]["properties"]["kind"] = {"const": kind}
        definitions[model]["required"] = sorted({*definitions[model].get("required", []),
                                                 "apiVersion", "kind"})
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": (f"Kubernetes {VERSION} API objects that deploy/kubernetes uses, from the "
                     "OpenAPI definitions as kubernetes-client/python (release-1.36, Apache-2.0) "
                     "carries them; made by deploy/kubernetes/schema/generate.py."),
        "x-kubernetes-version": VERSION,
        "x-roots": {f"{api} {kind}": model for (api, kind), model in ROOTS.items()},
        "definitions": dict(sorted(definitions.items())),
    }


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    schema = generate(Path(sys.argv[1]))
    out = Path(__file__).with_name(f"k8s-{VERSION}.schema.json")
    out.write_text(json.dumps(schema, indent=1, sort_keys=False) + "\n")
    print(f"{out}: {len(schema['definitions'])} definitions")


if __name__ == "__main__":
    main()
