"""Data schemas as YAML files: read with errors that name the file, line and field.

The loader follows ``loopml.yaml``'s (:mod:`loopml.core.project_file`): unknown keys are
refused so a typo never passes silently, a key given twice is refused rather than the
first silently lost, and every error reads ``schema.yaml, line 7: columns.age.min:
expected a number, got 'abc'``.

>>> schema = parse_schema('''
... version: 1
... columns:
...   age: {dtype: int64, min: 0}
... ''')
>>> schema.column("age").min
0
>>> parse_schema('''
... version: 1
... columns:
...   age: {dtype: integer}
... ''')
Traceback (most recent call last):
...
loopml.core.errors.ValidationError: schema.yaml, line 4: columns.age.dtype: unknown dtype \
'integer'; use one of: any, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, \
float32, float64, string, date, datetime, datetime_tz
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from loopml.core.errors import NotFoundError, ValidationError
from loopml.core.project_file import _line_of
from loopml.datasets.schema import SCHEMA_VERSION, ColumnSchema, DataSchema

__all__ = ["dump_schema", "load_schema", "parse_schema", "save_schema", "schema_from_dict"]

_TOP_KEYS = ("version", "name", "strict", "coerce", "columns")
_COLUMN_KEYS = ("dtype", "nullable", "unique", "min", "max", "isin", "description")
_FIELD_TAIL = re.compile(r"\.(\w+)(?:\[(\d+)\])?$")
_Error = Callable[[tuple[str | int, ...], str], ValidationError]


def parse_schema(text: str, *, source: str = "schema.yaml") -> DataSchema:
    """Parse the YAML text of a data schema.

    Raises:
        ValidationError: naming ``source``, the line and the field at fault.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ValidationError(f"{source}, line {line}: not valid YAML ({exc.problem})") from None
    if node is not None:
        _refuse_repeated_keys(node, source)
    return _build(data, node, source)


def schema_from_dict(data: object, *, source: str = "schema") -> DataSchema:
    """Read a schema from builtins as :meth:`DataSchema.to_dict` writes them."""
    return _build(data, None, source)


def dump_schema(schema: DataSchema) -> str:
    """Render a schema as YAML: one block per column, lists of values on one line."""
    header = "# loopml data schema: edit by hand or through loopml.datasets.schema.\n"
    return header + yaml.dump(schema.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def load_schema(path: str | os.PathLike[str]) -> DataSchema:
    """Read and check the schema file at ``path``.

    Raises:
        NotFoundError: if there is no file at ``path``.
        ValidationError: naming the file, the line and the field at fault.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such schema file") from None
    return parse_schema(text, source=str(path))


def save_schema(schema: DataSchema, path: str | os.PathLike[str]) -> None:
    """Write ``schema`` to ``path`` atomically: readers see the old file or the new one."""
    target = Path(path)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(dump_schema(schema))
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class _Dumper(yaml.SafeDumper):
    """Lists in flow style (``isin: [a, b]``), mappings as blocks."""


_Dumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)


def _build(data: object, node: yaml.Node | None, source: str) -> DataSchema:
    def error(loc: tuple[str | int, ...], message: str) -> ValidationError:
        line = _line_of(node, loc) if node is not None else None
        where = f"{source}, line {line}" if line is not None else source
        field = ".".join(str(part) for part in loc) or None
        return ValidationError(f"{where}: {message}", field=field)

    if not isinstance(data, dict):
        raise error((), "expected a mapping with 'version: 1' and 'columns'")
    _refuse_unknown_keys(data, _TOP_KEYS, (), error)
    version = data.get("version")
    if version is None:
        raise error((), f"version: missing; add 'version: {SCHEMA_VERSION}' at the top")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise error(("version",), f"version: expected {SCHEMA_VERSION}, got {version!r}")
    if version > SCHEMA_VERSION:
        raise error(
            ("version",),
            f"version: {version} was written by a newer loopml (this one reads "
            f"{SCHEMA_VERSION}); upgrade: pip install -U loopml",
        )
    specs = data.get("columns", {})
    if not isinstance(specs, dict):
        raise error(("columns",), f"columns: expected a mapping of column names, got {specs!r}")
    texts = _key_texts(node, "columns") or [str(name) for name in specs]
    columns = [
        _column(name, text, spec, error)
        for (name, spec), text in zip(specs.items(), texts, strict=True)
    ]
    options = {key: data[key] for key in ("name", "strict", "coerce") if key in data}
    try:
        return DataSchema(tuple(columns), **options)
    except ValidationError as exc:
        raise error((str(exc.field),), exc.message) from None


def _column(name: object, text: str, spec: object, error: _Error) -> ColumnSchema:
    if not isinstance(name, str):
        raise error(
            ("columns", text),
            f"columns: column name {text} is read as {type(name).__name__}, not text; "
            f"quote it: '{text}':",
        )
    where = ("columns", name)
    if not isinstance(spec, dict):
        raise error(where, f"columns.{name}: expected a mapping such as {{dtype: int64}}")
    _refuse_unknown_keys(spec, _COLUMN_KEYS, where, error)
    if "dtype" not in spec:
        raise error(where, f"columns.{name}.dtype: missing; every column needs a dtype")
    try:
        return ColumnSchema(name, **spec)
    except ValidationError as exc:
        tail = _FIELD_TAIL.search(exc.field or "")
        loc = where if tail is None else (*where, tail[1], *([int(tail[2])] if tail[2] else []))
        raise error(loc, exc.message) from None


def _key_texts(node: yaml.Node | None, key: str) -> list[str]:
    """The keys of mapping ``key`` as written in the file (YAML reads ``yes`` as True)."""
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if name.value == key and isinstance(value, yaml.MappingNode):
                return [str(item.value) for item, _ in value.value]
    return []


def _refuse_unknown_keys(
    data: Mapping[Any, Any], allowed: tuple[str, ...], loc: tuple[str, ...], error: _Error
) -> None:
    for key in data:
        if key not in allowed:
            path = ".".join([*loc, str(key)])
            raise error(
                (*loc, str(key)), f"{path}: unknown key; allowed here: {', '.join(allowed)}"
            )


def _refuse_repeated_keys(node: yaml.Node, source: str) -> None:
    """PyYAML keeps the last of two equal keys; a schema refuses them instead."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value in first:
                raise ValidationError(
                    f"{source}, line {line}: {key.value}: given twice "
                    f"(first on line {first[key.value]}); keep one",
                    field=str(key.value),
                )
            first[key.value] = line
            _refuse_repeated_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_repeated_keys(item, source)
