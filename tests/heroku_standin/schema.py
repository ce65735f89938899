"""Validation of the stand-in's traffic against Heroku's published JSON hyper-schema.

Each request is matched to a schema ``link`` (method + href template); its body is validated
against the link's ``schema`` and the stand-in's answer against ``targetSchema``. Two checks are
stricter than plain JSON Schema, because they catch the mistakes that matter: a request body
may not carry properties the link does not define (e.g. a misspelt ``dyno_name``), and an answer
may not carry properties the resource does not define (so homedeploy never depends on a field
real Heroku does not send; the schema marks resources ``strictProperties``).

The schema file is read from ``../shared/heroku/heroku-platform-schema.json`` beside the
checkout; when it is absent, validation is skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT.parent / "shared" / "heroku" / "heroku-platform-schema.json"


@dataclass(frozen=True)
class Link:
    method: str
    pattern: re.Pattern[str]
    href: str
    request: dict[str, Any] | None
    target: dict[str, Any] | None


def _href_regex(href: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]*\}", href)
    return re.compile("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")


class SchemaValidator:
    """Finds the link for a request and validates bodies; collects readable error strings."""

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import Draft4Validator, FormatChecker, validators

        self.schema = schema
        self.links: list[Link] = []
        for definition in schema["definitions"].values():
            for link in definition.get("links", []):
                self.links.append(
                    Link(
                        link["method"].upper(),
                        _href_regex(link["href"]),
                        link["href"],
                        link.get("schema"),
                        link.get("targetSchema"),
                    )
                )

        def strict_properties(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
            from jsonschema import ValidationError

            if value and isinstance(instance, dict) and "properties" in schema:
                extra = set(instance) - set(schema["properties"])
                if extra and "patternProperties" not in schema:
                    yield ValidationError(f"properties not in the schema: {sorted(extra)}")

        self._cls = validators.extend(Draft4Validator, {"strictProperties": strict_properties})
        self._format = FormatChecker()

    def links_for(self, method: str, path: str) -> list[Link]:
        return [lk for lk in self.links if lk.method == method and lk.pattern.match(path)]

    def _errors(self, sub: dict[str, Any], instance: Any) -> list[str]:
        wrapper = dict(sub)
        wrapper["definitions"] = self.schema["definitions"]
        validator = self._cls(wrapper, format_checker=self._format)
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]

    def _resolve(self, sub: dict[str, Any]) -> dict[str, Any]:
        ref = sub.get("$ref")
        if not ref:
            return sub
        node: Any = self.schema
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return self._resolve(node)

    def check_request(self, method: str, path: str, body: Any) -> list[str]:
        """Errors for a request body ([] when valid, or when no link has a request schema)."""
        links = self.links_for(method, path)
        if not links:
            return [f"no schema link for {method} {path}"]
        problems: list[str] = []
        for link in links:
            if link.request is None:
                if body in (None, {}, b"", ""):
                    return []
                problems.append(f"{method} {path} takes no body")
                continue
            errors = self._errors(link.request, body)
            schema = self._resolve(link.request)
            props = schema.get("properties")
            if isinstance(body, dict) and props and "patternProperties" not in schema:
                extra = set(body) - set(props)
                if extra:
                    errors.append(f"<root>: properties the link does not define: {sorted(extra)}")
            if not errors:
                return []
            problems.extend(errors)
        return problems

    def check_response(self, method: str, path: str, body: Any) -> list[str]:
        """Errors for a 2xx answer against each matching link's ``targetSchema``."""
        links = [lk for lk in self.links_for(method, path) if lk.target is not None]
        if not links:
            return []
        problems: list[str] = []
        for link in links:
            assert link.target is not None
            errors = self._errors(link.target, body)
            if not errors:
                return []
            problems.extend(errors)
        return problems


@lru_cache(maxsize=1)
def load_validator(path: Path = SCHEMA_PATH) -> SchemaValidator | None:
    """The validator, or None when the schema file is not beside the checkout."""
    if not path.is_file():
        return None
    return SchemaValidator(json.loads(path.read_text(encoding="utf-8")))
