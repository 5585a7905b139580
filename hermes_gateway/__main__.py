"""`python -m hermes_gateway models [--gateway G] [--live] [--json] [--embeddings]`: the Hermes models (or,
with `--embeddings`, the embedding models: `_embedding_listing`), one row per gateway;
`python -m hermes_gateway doctor [--gateway G ...] [--model M ...] [--record]`: a live self-check (`_doctor`).

Offline it prints the built-in catalog; `--live` asks each gateway's Models route (no key needed) and lays
what it says over the catalog: current ids, limits and prices, which models are listed today, and Hermes
models the catalog does not know yet. Failures are one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _embedding_listing
from ._catalog import BUILTIN_MODELS, CATALOG_GATEWAYS, ModelInfo
from ._doctor import DEFAULT_MODELS, DOCTOR_GATEWAYS, DoctorError
from ._doctor import render as render_doctor
from ._doctor import run as run_doctor
from ._exceptions import GatewayError
from ._models_api import LiveModel, MergedModel, fetch_models, is_hermes, merge_live

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

LOCAL = "local"
"""The row label for a model no gateway serves (run it on an OpenAI-compatible server)."""
_COLUMNS = (
    "MODEL",
    "GATEWAY",
    "ID",
    "CONTEXT",
    "MAX OUT",
    "IN $/1M",
    "OUT $/1M",
    "TOOLS",
    "VISION",
    "REASON",
)
_RIGHT = frozenset({"CONTEXT", "MAX OUT", "IN $/1M", "OUT $/1M"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hermes_gateway", description="Hermes models on the gateways."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="list the Hermes models (built-in catalog, or --live)")
    models.add_argument("--gateway", choices=(*CATALOG_GATEWAYS, "all"), default="all")
    models.add_argument("--live", action="store_true", help="fetch and merge the gateways' live model lists")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.add_argument(
        "--embeddings", action="store_true", help="list the embedding models (dimensions, context, default)"
    )
    doctor = commands.add_parser(
        "doctor", help="probe the live gateways with your key(s) and compare with the catalog's assumptions"
    )
    doctor.add_argument(
        "--gateway", action="append", choices=DOCTOR_GATEWAYS, help="repeatable; default: each with a key"
    )
    doctor.add_argument("--model", action="append", help=f"repeatable; default: {', '.join(DEFAULT_MODELS)}")
    doctor.add_argument("--record", action="store_true", help="write scrubbed cassettes (see --record-dir)")
    doctor.add_argument("--record-dir", type=Path, default=Path("cassettes/live/doctor"))
    doctor.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    return parser


def _doctor_command(args: argparse.Namespace) -> int:
    """0: every assumption held; 1: one was wrong; 2: could not start (no key, offline)."""
    try:
        findings, spend, written = run_doctor(
            args.gateway or DOCTOR_GATEWAYS,
            args.model or DEFAULT_MODELS,
            record_dir=args.record_dir if args.record else None,
            timeout=args.timeout,
            explicit=bool(args.gateway),
        )
    except DoctorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_doctor(findings, spend))
    for path in written:
        print(f"recorded: {path}")
    return 1 if any(f.status == "FAIL" for f in findings) else 0


def _count(value: int) -> str:
    return f"{value:,}" if value > 0 else "-"


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.3g}"


def _tools(info: ModelInfo, gateway: str) -> str:
    """native: confirmed, auto mode sends `tools`; prompt: the Hermes format (auto mode's choice), with
    `+native?` where the gateway declares tools without confirmation (`tool_mode="native"` may work)."""
    if info.supports_native_tools(gateway):
        return "native"
    if info.declares_tools(gateway):
        return "prompt+native?" if info.trained_tool_calls else "native?"
    return "prompt" if info.trained_tool_calls else "-"


def _status(merged: MergedModel, gateway: str, live: bool) -> str:
    notes: list[str] = []
    dep = merged.info.deprecation(gateway)
    if dep is not None:
        notes.append(
            f"DEPRECATED {dep.date.isoformat()}" + (f" -> {dep.replacement}" if dep.replacement else "")
        )
    if live and gateway != LOCAL:
        notes.append("listed" if gateway in merged.listed_on else "not listed")
    return "; ".join(notes)


def _row_gateways(merged: MergedModel, gateways: Sequence[str]) -> list[str]:
    shown = [g for g in gateways if g in merged.info.gateway_ids or g in merged.listed_on]
    if not shown and not merged.info.gateway_ids and len(gateways) > 1:
        return [LOCAL]
    return shown


def _rows(
    models: Sequence[MergedModel],
    gateways: Sequence[str],
    live: bool,
    per_gateway: Mapping[str, Mapping[str, MergedModel]] | None = None,
) -> list[dict[str, str]]:
    """One row per model and gateway; `per_gateway` (live) gives each gateway's own limits for its row."""
    rows: list[dict[str, str]] = []
    for overall in models:
        for gateway in _row_gateways(overall, gateways):
            merged = (per_gateway or {}).get(gateway, {}).get(overall.info.name, overall)
            info = merged.info
            price = info.price(gateway)
            row = {
                "MODEL": info.name,
                "GATEWAY": gateway,
                "ID": info.gateway_ids.get(gateway) or info.hf_id or info.name,
                "CONTEXT": _count(info.context_window),
                "MAX OUT": _count(info.max_output_tokens),
                "IN $/1M": _money(price.input_per_mtok if price else None),
                "OUT $/1M": _money(price.output_per_mtok if price else None),
                "TOOLS": _tools(info, gateway if gateway != LOCAL else "openai"),
                "VISION": "yes" if info.vision else "-",
                "REASON": "yes" if info.reasoning else "-",
                "STATUS": _status(merged, gateway, live),
            }
            rows.append(row)
    return rows


def render_table(rows: Sequence[dict[str, str]]) -> str:
    """Aligned columns; STATUS (free text) last and only when some row has one."""
    columns = [*_COLUMNS, "STATUS"] if any(r["STATUS"] for r in rows) else list(_COLUMNS)
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}

    def line(cells: dict[str, str]) -> str:
        parts = [cells[c].rjust(widths[c]) if c in _RIGHT else cells[c].ljust(widths[c]) for c in columns]
        return "  ".join(parts).rstrip()

    return "\n".join([line({c: c for c in columns}), *(line(r) for r in rows)])


def _as_json(merged: MergedModel) -> dict[str, Any]:
    info = merged.info
    return {
        "name": info.name,
        "gateway_ids": dict(info.gateway_ids),
        "hf_id": info.hf_id,
        "aliases": list(info.aliases),
        "context_window": info.context_window or None,
        "max_output_tokens": info.max_output_tokens or None,
        "prompt_format": info.prompt_format,
        "native_tools": sorted(info.native_tools),
        "declared_tools": sorted(info.declared_tools),
        "tool_evidence": dict(info.tool_evidence),
        "tool_roles": {g: info.tool_role(g) for g in (*CATALOG_GATEWAYS, "openai")},
        "vision": info.vision,
        "reasoning": info.reasoning,
        "prices_per_mtok": {
            g: {"input": p.input_per_mtok, "output": p.output_per_mtok} for g, p in info.prices.items()
        },
        "deprecations": {
            g: {"date": d.date.isoformat(), "message": d.message, "replacement": d.replacement}
            for g, d in info.deprecations.items()
        },
        "providers": {g: list(p) for g, p in {**info.providers, **merged.providers}.items()},
        "listed_on": sorted(merged.listed_on),
        "description": info.description,
    }


def _embeddings_command(args: argparse.Namespace, gateways: tuple[str, ...]) -> int:
    if args.live:
        live: list[LiveModel] = []
        for gateway in gateways:
            try:
                live += fetch_models(gateway)
            except (GatewayError, ValueError) as exc:
                print(f"error: could not fetch the {gateway} model list: {exc}", file=sys.stderr)
                return 1
        rows = _embedding_listing.live_rows(live)
    else:
        rows = _embedding_listing.builtin_rows(gateways)
    if args.json:
        print(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        print(_embedding_listing.render(rows))
    return 0


def _models_command(args: argparse.Namespace) -> int:
    gateways: tuple[str, ...] = CATALOG_GATEWAYS if args.gateway == "all" else (args.gateway,)
    if args.embeddings:
        return _embeddings_command(args, gateways)
    if args.live:
        live: list[LiveModel] = []
        for gateway in gateways:
            try:
                live += [m for m in fetch_models(gateway) if is_hermes(m)]
            except (GatewayError, ValueError) as exc:
                print(f"error: could not fetch the {gateway} model list: {exc}", file=sys.stderr)
                return 1
        models = merge_live(live)
        # Each gateway's row shows that gateway's own limits (merge_live alone keeps the smallest of all).
        per_gateway = {
            g: {m.info.name: m for m in merge_live([x for x in live if x.gateway == g])} for g in gateways
        }
    else:
        models, per_gateway = [MergedModel(info=info) for info in BUILTIN_MODELS], {}
    if args.json:
        shown = [m for m in models if _row_gateways(m, gateways)]
        print(json.dumps([_as_json(m) for m in shown], indent=2))
    else:
        print(render_table(_rows(models, gateways, args.live, per_gateway)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m hermes_gateway` and the `hermes-gateway` script; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "models":
        return _models_command(args)
    if args.command == "doctor":
        return _doctor_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
