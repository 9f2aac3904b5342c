"""The cost model's arithmetic (bench/cost/): pure functions over written-down prices,
assumptions and measured figures; and how it reads the benchmarks' results."""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.cost import lines as cost_lines
from bench.cost.assumptions import ASSUMPTIONS, ESTIMATES, PRICES, markdown_tables, table
from bench.cost.figures import FIGURES, MissingFigures, load_figures, mix, weighted
from bench.cost.lines import archive_gb_months, cloudwatch, model, ours
from bench.cost_model import main
from common.log_types import LogType

FIG = {
    "cpu_s_per_gb": 40.0,
    "compression_ratio": 8.0,
    "dynamodb_writes_per_gb": 400.0,
    "s3_requests_per_gb": 150.0,
    "rds_calls_per_gb": 10.0,
    "kafka_messages_per_gb": 400.0,
}
PRICE = table(PRICES)
ASSUME = table(ASSUMPTIONS)
positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


def total(lines: list[cost_lines.Line]) -> float:
    return sum(line.usd_month for line in lines if not line.alternative)


def test_every_price_and_assumption_is_written_down_and_used() -> None:
    code = inspect.getsource(cost_lines)
    for a in (*PRICES, *ASSUMPTIONS):
        assert a.unit and a.source, a.key
        used = f'"{a.key}"' in code or f"'{a.key}'" in code or a.key.startswith("mix_")
        assert used, f"{a.key} is written down but the model never uses it"
    assert len({a.key for a in (*PRICES, *ASSUMPTIONS)}) == len(PRICES) + len(ASSUMPTIONS)
    assert math.isclose(sum(mix(ASSUME).values()), 1.0)


def test_readme_lists_every_price_and_assumption() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    stale = [row for row in markdown_tables().splitlines() if row.startswith("| `")]
    assert stale and not [row for row in stale if row not in readme], (
        "README's cost model tables are stale; paste `markdown_tables()` of bench/cost/assumptions.py"
    )


def test_cloudwatch_is_fifty_cents_a_gb_plus_storage() -> None:
    cw = cloudwatch(FIG, PRICE, ASSUME)
    assert cw[0].usd_month == pytest.approx(0.50 * 102_400)
    stored = 102_400 / 8.0 * 365 * 12 / 365  # a year of compressed months
    assert cw[1].usd_month == pytest.approx(stored * 0.03)
    assert model(FIG, PRICE, ASSUME)["cloudwatch_usd_month"] == pytest.approx(
        round(cw[0].usd_month + cw[1].usd_month, 2)
    )


def test_processor_compute_from_cpu_seconds_per_gb() -> None:
    line = ours(FIG, PRICE, ASSUME)[0]
    vcpu_hours = 40.0 * 102_400 / 3600 / 0.6
    assert line.usd_month == pytest.approx(vcpu_hours * PRICE["spot_vcpu_hour"])


@given(
    monthly=positive,
    standard=st.floats(0, 400),
    ia_extra=st.floats(0, 400),
    keep_extra=st.floats(0, 4000),
)
def test_archive_tiers_hold_every_day_kept_once(
    monthly: float, standard: float, ia_extra: float, keep_extra: float
) -> None:
    ia_days = standard + ia_extra
    keep = ia_days + keep_extra
    tiers = archive_gb_months(monthly, standard, ia_days, keep)
    assert all(t >= 0 for t in tiers)
    assert sum(tiers) == pytest.approx(monthly * 12 / 365 * keep, rel=1e-9, abs=1e-9)


@given(volume=positive, k=st.floats(1.0, 100.0))
def test_cost_is_affine_in_volume_and_cloudwatch_linear(volume: float, k: float) -> None:
    def at(v: float) -> tuple[float, float]:
        a = {**ASSUME, "volume_gb_month": v}
        return total(ours(FIG, PRICE, a)), total(cloudwatch(FIG, PRICE, a))

    (o0, c0), (o1, c1), (ok, ck) = at(0.0), at(volume), at(volume * k)
    assert ok - o0 == pytest.approx(k * (o1 - o0), rel=1e-9, abs=1e-8)
    assert ck == pytest.approx(k * c1, rel=1e-9) and c0 == 0


@given(low=st.floats(1.5, 30.0), more=st.floats(0.1, 30.0))
def test_better_compression_never_costs_more(low: float, more: float) -> None:
    def cost(ratio: float) -> float:
        return total(ours({**FIG, "compression_ratio": ratio}, PRICE, ASSUME))

    assert cost(low + more) < cost(low)


@given(
    r=st.floats(1.01, 100.0),
    shares=st.dictionaries(st.sampled_from(list(LogType)), positive, min_size=1),
)
def test_weighted_means_of_a_constant_are_that_constant(
    r: float, shares: dict[LogType, float]
) -> None:
    per_type = {t.value: r for t in shares}
    s = {t.value: v for t, v in shares.items()}
    assert weighted(per_type, s) == pytest.approx(r)
    assert weighted(per_type, s, harmonic=True) == pytest.approx(r)


def test_compression_ratios_weigh_by_stored_bytes() -> None:
    # Half the bytes compress 2:1, half 10:1: 1 GB becomes 0.25 + 0.05 GB, a ratio of 1/0.3.
    ratio = weighted({"error": 2.0, "audit": 10.0}, {"error": 0.5, "audit": 0.5}, harmonic=True)
    assert ratio == pytest.approx(1 / 0.3)


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data))


def test_missing_figures_are_named_and_estimates_are_labelled(tmp_path: Path) -> None:
    formats = {t.value: {"bytes": 2**30, "cpu_seconds": 10.0} for t in LogType}
    write(tmp_path / "parsers.json", {"formats": formats})
    with pytest.raises(MissingFigures) as caught:
        load_figures(tmp_path, ASSUME, estimates=False)
    text = str(caught.value)
    for key in ("compression_ratio", "s3_requests_per_gb", "kafka_messages_per_gb"):
        assert key in text
    assert "cpu_s_per_gb" not in text  # parsers.json gives it (a lower bound)
    figures = load_figures(tmp_path, ASSUME, estimates=True)
    assert set(figures) == set(FIGURES)
    assert figures["compression_ratio"].estimated
    assert figures["compression_ratio"].value == ESTIMATES["compression_ratio"][0]
    assert figures["cpu_s_per_gb"].value == pytest.approx(
        10.0 * ESTIMATES["cpu_overhead_factor"][0]
    )
    assert main(["--results", str(tmp_path)]) == 2
    assert not (tmp_path / "cost_model.json").exists()


def test_measured_figures_win_pipeline_first(tmp_path: Path) -> None:
    per_type = {
        t.value: {
            "cpu_s_per_gb": 30.0,
            "compression_ratio": 6.0,
            "dynamodb_writes_per_gb": 300.0,
            "s3_requests_per_gb": 120.0,
            "rds_calls_per_gb": 9.0,
        }
        for t in LogType
    }
    write(tmp_path / "processor.json", {"machine": "x", "log_types": per_type})
    write(
        tmp_path / "pipeline.json",
        {
            "ours": {"processor_cpu_s_per_gb": 55.0, "kafka_messages_per_gb": 250.0},
            "baseline": {"processor_cpu_s_per_gb": 999.0, "rds_calls_per_gb": 999.0},
        },
    )
    figures = load_figures(tmp_path, ASSUME, estimates=False)
    assert figures["cpu_s_per_gb"].value == 55.0  # end to end beats the per-type figure
    assert figures["kafka_messages_per_gb"].value == 250.0
    assert figures["rds_calls_per_gb"].value == pytest.approx(9.0)  # not the baseline's
    assert figures["compression_ratio"].value == pytest.approx(6.0)
    assert not any(f.estimated for f in figures.values())
    assert main(["--results", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "cost_model.json").read_text())
    assert result["estimated"] == []
    assert result["total_usd_month"] == pytest.approx(
        sum(line["usd_month"] for line in result["ours"]), abs=0.01
    )
    assert "CloudWatch Logs" in (tmp_path / "cost_model.md").read_text()
