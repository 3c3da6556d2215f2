"""Turn loosely shaped TOML data into frozen, validated dataclasses, once.

Scenario files and report templates are plain data. They are parsed here into frozen
dataclasses, so the code that uses them never sees raw dictionaries. Every problem is
reported with the file, the key path, what was found and what would be accepted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from supportxl.errors import ParameterError

T = TypeVar("T")

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a text", bool: "true or false",
               dt.date: "a date (YYYY-MM-DD)"}


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-sentence error."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise ParameterError(f"{path}: is a folder, expected a TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: not valid TOML ({exc}).") from None
    except OSError as exc:
        raise ParameterError(f"{path}: cannot be read ({exc.strerror}).") from None


def from_data(cls: type[T], data: Mapping[str, Any], *, source: str, prefix: str = "") -> T:
    """Build the dataclass ``cls`` from ``data``; fields absent from ``data`` keep their defaults."""
    if not isinstance(data, Mapping):
        raise ParameterError(f"{source}: {prefix or 'the file'} should be a table, found {data!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ParameterError(
            f"{source}: unknown key '{where}' (valid keys: {', '.join(sorted(fields))})."
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        key_path = f"{prefix}.{name}" if prefix else name
        values[name] = _convert(hints[name], value, source=source, key_path=key_path)
    return cls(**values)


def _convert(hint: Any, value: Any, *, source: str, key_path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_data(hint, value, source=source, prefix=key_path)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, source=source, key_path=key_path)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            _wrong(source, key_path, "a list", value)
        item_type = args[0]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(item_type, v, source=source, key_path=f"{key_path}[{i}]")
                         for i, v in enumerate(value))
        if len(value) != len(args):
            raise ParameterError(
                f"{source}: {key_path} should have {len(args)} values, found {len(value)}."
            )
        return tuple(_convert(a, v, source=source, key_path=f"{key_path}[{i}]")
                     for i, (a, v) in enumerate(zip(args, value)))
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            _wrong(source, key_path, "a table", value)
        value_type = args[1] if args else Any
        return {str(k): _convert(value_type, v, source=source, key_path=f"{key_path}.{k}")
                for k, v in value.items()}
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _wrong(source, key_path, _TYPE_NAMES[float], value)
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _wrong(source, key_path, _TYPE_NAMES[int], value)
        return value
    if hint is bool:
        if not isinstance(value, bool):
            _wrong(source, key_path, _TYPE_NAMES[bool], value)
        return value
    if hint is str:
        if not isinstance(value, str):
            _wrong(source, key_path, _TYPE_NAMES[str], value)
        return value
    if hint is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        _wrong(source, key_path, _TYPE_NAMES[dt.date], value)
    raise TypeError(f"unsupported field type {hint!r} at {key_path}")  # a programming error


def _wrong(source: str, key_path: str, expected: str, value: Any) -> typing.NoReturn:
    raise ParameterError(f"{source}: {key_path} should be {expected}, found {value!r}.")


def to_data(obj: Any) -> Any:
    """The plain-data (JSON/TOML-friendly) form of a dataclass tree, keys in field order."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two plain-data trees; values in ``override`` win."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
