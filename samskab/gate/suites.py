"""Run the committed Great Expectations suites over tables and say, in words, what failed.

The caller reads a table from DuckDB into a pandas DataFrame and passes it in: GX 1.24's SQL
data source on DuckDB fails every expectation (the connection is closed before rows are
fetched), while its pandas engine works.

Results never carry cell values. GX is asked for the SUMMARY result format with no partial
unexpected list, and only counts (and, for aggregate checks such as the row count or a mean,
the observed statistic) are copied out of its answer, so no respondent, pseudonym or code
from the data can reach an artifact, a log or Data Docs through the gate. GX's own result is
kept beside the outcomes for Data Docs (samskab/gate/data_docs.py), scrubbed the same way: counts and
safe statistics stay, every value list, observed cell and exception text goes.

What the suites hold: boundary checks of the raw deliveries before dbt runs (formats and code sets
from the seeds, ranges, required fields, date order, a row-count band per raw table), and the drift
of a candidate file from the published one (samskab/gate/drift.py). Keys, relationships, accepted
values, grids, reconciliations and ranges of the marts are dbt tests; each check lives in one tool.

`great_expectations` takes about ten seconds to import, so it is imported on first
validation only; reading suite names and tables needs nothing but the JSON files.
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samskab.common.settings import quiet_third_party_telemetry
from samskab.common.words import Severity

if TYPE_CHECKING:
    import pandas

# Must be set before great_expectations is first imported, which happens lazily below.
quiet_third_party_telemetry()

BLOCKING, WARNING = Severity.BLOCKING, Severity.WARNING
# raw: each raw table before dbt (stages.validate_stage); marts: a candidate's marts (none committed now,
# dbt tests hold their truths); drift: comparison frames of the candidate and the published file (drift.py).
STAGES = ("raw", "marts", "drift")
EXPECTATIONS_DIR_ENV = "SAMSKAB_EXPECTATIONS_DIR"

# Whole-table statistics that are safe to show: none of them is a cell of the table.
# (Column min, max, median or most common value are cells, so they never appear here.)
_SAFE_OBSERVED_VALUE = frozenset(
    {
        "expect_table_row_count_to_be_between",
        "expect_table_row_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_table_column_count_to_equal",
        "expect_column_mean_to_be_between",
        "expect_column_stdev_to_be_between",
        "expect_column_proportion_of_unique_values_to_be_between",
        "expect_column_proportion_of_non_null_values_to_be_between",
        "expect_column_unique_value_count_to_be_between",
    }
)
# The only keys of an expectation's `result` kept for Data Docs: counts and percentages. Everything
# else goes: partial_unexpected_list/_counts/_index_list, unexpected_list, unexpected_index_list/
# _query, unexpected_rows, details (value counts, quantiles) and any key a future GX adds.
_COUNT_KEYS = frozenset(
    {
        "element_count",
        "missing_count",
        "missing_percent",
        "unexpected_count",
        "unexpected_percent",
        "unexpected_percent_total",
        "unexpected_percent_nonmissing",
    }
)
# Said in place of GX's exception message and traceback, which may quote a value from the data.
EXCEPTION_LEFT_OUT = (
    "The check could not run on this table (a column may have an unexpected type); "
    "the error text is left out because it may quote a value from the data."
)
_ROW_COUNT_CHECKS = frozenset({"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"})
# Private key put into each expectation's meta in memory, to give back results in suite order.
_ORDER_KEY = "_gate_order"
# GX's own severity field, set in memory from meta.severity: the committed suites carry one severity field.
_GX_SEVERITY = {BLOCKING: "critical", WARNING: "warning"}

# SUMMARY gives counts per check; with no partial list it copies no cell value (GX 1.24 then
# returns element, unexpected and missing counts and percentages, and an empty
# partial_unexpected_list; aggregate checks return observed_value).
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}

validate_lock = threading.Lock()


@dataclass(frozen=True)
class CheckOutcome:
    """One expectation's result, in words and counts; never a value from the table."""

    suite: str
    check: str
    column: str | None
    severity: str
    success: bool
    description: str
    observed: str


@dataclass(frozen=True)
class SuiteVerdict:
    """Every outcome of one suite on one table; it passes unless a blocking check failed.

    `validation_result` is GX's own result as a JSON-able dict, scrubbed of every cell value
    (`scrub_validation_result`), for Data Docs; None for verdicts GX did not make (the consent gate).
    """

    suite: str
    table: str
    n_rows: int
    outcomes: tuple[CheckOutcome, ...]
    validation_result: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return not self.failed_blocking

    @property
    def failed_blocking(self) -> tuple[CheckOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success and o.severity == BLOCKING)

    @property
    def failed_warning(self) -> tuple[CheckOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success and o.severity == WARNING)


def expectations_dir() -> Path:
    """The committed suites: `$SAMSKAB_EXPECTATIONS_DIR`, else `expectations/` in the repo."""
    override = os.environ.get(EXPECTATIONS_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "expectations"


def _suite_files() -> dict[str, Path]:
    return {path.stem: path for path in sorted(expectations_dir().glob("*.json"))}


def load_suite_document(suite_name: str) -> dict[str, Any]:
    """The suite's JSON as committed (a GX 1.x `ExpectationSuite.to_json_dict()`), checked."""
    path = _suite_files().get(suite_name)
    if path is None:
        raise KeyError(f"No expectation suite named {suite_name!r} in {expectations_dir()}")
    document = json.loads(path.read_text(encoding="utf-8"))
    _check_document(path, document)
    return _with_seed_code_sets(document)


def _with_seed_code_sets(document: dict[str, Any]) -> dict[str, Any]:
    """Replace every `{"$seed": name, "column": column}` argument with that seed column's values.

    Code sets (municipality codes, sector areas, statuses, ...) live once, in the dbt seeds; a suite
    names the seed column instead of copying its values.
    """
    from samskab.common.reference import seed_column

    expectations = []
    for expectation in document.get("expectations") or []:
        kwargs = {
            name: seed_column(value["$seed"], value["column"])
            if isinstance(value, dict) and "$seed" in value
            else value
            for name, value in (expectation.get("kwargs") or {}).items()
        }
        expectations.append({**expectation, "kwargs": kwargs})
    return {**document, "expectations": expectations}


def _check_document(path: Path, document: dict[str, Any]) -> None:
    problems = []
    if document.get("name") != path.stem:
        problems.append(f"its name {document.get('name')!r} differs from the file name")
    meta = document.get("meta") or {}
    if meta.get("stage") not in STAGES:
        problems.append(f"meta 'stage' must be one of {STAGES}")
    if not meta.get("table"):
        problems.append("meta 'table' is missing")
    for index, expectation in enumerate(document.get("expectations") or []):
        exp_meta = expectation.get("meta") or {}
        if exp_meta.get("severity") not in (BLOCKING, WARNING):
            problems.append(f"expectation {index} has no severity 'blocking' or 'warning' in meta")
        if "severity" in expectation:
            problems.append(f"expectation {index} has GX's own 'severity' beside meta's; keep meta 'severity' only")
        if not exp_meta.get("description"):
            problems.append(f"expectation {index} has no description in meta")
    if problems:
        raise ValueError(f"Expectation suite {path} is malformed: " + "; ".join(problems))


def suite_names(stage: str) -> list[str]:
    """Names of the suites whose meta 'stage' is `stage` ("raw", "marts" or "drift"), sorted."""
    if stage not in STAGES:
        raise ValueError(f"Unknown stage {stage!r}; expected one of {STAGES}")
    return sorted(
        name
        for name, path in _suite_files().items()
        if (json.loads(path.read_text(encoding="utf-8")).get("meta") or {}).get("stage") == stage
    )


def suite_columns(suite_name: str) -> set[str]:
    """The columns a suite's expectations read (and their row conditions)."""
    columns: set[str] = set()
    for expectation in load_suite_document(suite_name)["expectations"]:
        kwargs = expectation.get("kwargs") or {}
        columns.update(_columns_of(kwargs))
        columns.update(_condition_columns(kwargs.get("row_condition")))
    return columns


def suite_table(suite_name: str) -> str:
    """The table a suite guards, e.g. "raw.survey_respondents" or "main.municipality_profile"."""
    return load_suite_document(suite_name)["meta"]["table"]


def _import_gx() -> Any:
    # GX's file data connector imports the deprecated `sre_constants` and `sre_parse` modules;
    # those warnings are GX's to fix and must not fail a run (or a test session with -W error).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"module 'sre_\w+' is deprecated", category=DeprecationWarning)
        import great_expectations as gx

    return gx


@lru_cache(maxsize=1)
def batch_definition() -> Any:
    """One ephemeral GX context per process, with a pandas data source taking any DataFrame."""
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars would write to stderr of the nightly run for every suite.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("quality_gate").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_table")


def load_suite(suite_name: str) -> Any:
    """The suite as a GX `ExpectationSuite` (imports GX and starts the process's context)."""
    return _build_suite(load_suite_document(suite_name), mark_order=False)


def _build_suite(document: dict[str, Any], mark_order: bool = True) -> Any:
    batch_definition()  # GX imported under the warning filter, and a context exists
    from great_expectations.core import ExpectationSuite

    expectations = []
    for index, expectation in enumerate(document["expectations"]):
        expectation = dict(expectation)
        expectation["severity"] = _GX_SEVERITY[expectation["meta"]["severity"]]
        if mark_order:
            expectation["meta"] = {**expectation.get("meta", {}), _ORDER_KEY: index}
        expectations.append(expectation)
    return ExpectationSuite(name=document["name"], expectations=expectations, meta=dict(document.get("meta") or {}))


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_A"):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _condition_columns(condition: Any) -> list[str]:
    """Columns a row_condition reads (dict or GX Condition object)."""
    if condition is None or isinstance(condition, str):
        return []
    if not isinstance(condition, dict):
        condition = condition.dict()
    if "conditions" in condition:
        return [c for sub in condition["conditions"] for c in _condition_columns(sub)]
    column = condition.get("column")
    return [column["name"]] if isinstance(column, dict) and "name" in column else []


def _format_number(value: Any) -> str:
    number = float(value)
    if math.isfinite(number) and number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.4g}"


def _observed(
    check: str,
    kwargs: dict[str, Any],
    result: dict[str, Any],
    exception: Any,
    frame_columns: set[str],
) -> str:
    """Counts in words, read from a few numeric keys of GX's result and nothing else."""
    missing = [
        c for c in _columns_of(kwargs) + _condition_columns(kwargs.get("row_condition")) if c not in frame_columns
    ]
    if missing:
        return "the table has no column " + ", ".join(sorted(set(missing)))
    if isinstance(exception, dict) and _raised(exception):
        # GX's message is left out on purpose: an error text may quote a value from the data.
        return "the check could not run on this table (a column may have an unexpected type)"
    if "unexpected_count" in result and "element_count" in result:
        unexpected, total = int(result["unexpected_count"]), int(result["element_count"])
        text = f"{unexpected} of {total} rows unexpected"
        if kwargs.get("row_condition") is not None:
            text += " (counting only the rows the check applies to)"
        empty = int(result.get("missing_count") or 0)
        if empty and check != "expect_column_values_to_not_be_null" and "column" in kwargs:
            text += f"; {empty} empty, not checked"
        return text
    if "observed_value" in result:
        value = result["observed_value"]
        if check not in _SAFE_OBSERVED_VALUE:
            return "observed value not shown"
        if value is None:
            return "no value could be computed"
        if check in _ROW_COUNT_CHECKS:
            return f"observed {_format_number(value)} rows"
        return f"observed {_format_number(value)}"
    return "no counts reported"


def _raised(exception_info: dict[str, Any]) -> bool:
    if "raised_exception" in exception_info:
        return bool(exception_info["raised_exception"])
    # On a metric error GX keys the info by metric, one nested dict per failed metric.
    return any(isinstance(v, dict) and v.get("raised_exception") for v in exception_info.values())


def _column_label(kwargs: dict[str, Any]) -> str | None:
    columns = _columns_of(kwargs)
    return ", ".join(columns) if columns else None


def _outcome(
    suite_name: str,
    check: str,
    kwargs: dict[str, Any],
    meta: dict[str, Any],
    success: Any,
    result: dict[str, Any] | None,
    exception: Any,
    columns: set[str],
) -> CheckOutcome:
    """One expectation's result in words and counts, from GX's result of it (whole or added over chunks)."""
    return CheckOutcome(
        suite=suite_name,
        check=check,
        column=_column_label(kwargs),
        severity=meta.get("severity", BLOCKING),
        success=bool(success),
        description=meta.get("description", ""),
        observed=_observed(check, kwargs, dict(result or {}), exception, columns),
    )


def validate_frame(
    suite_name: str, frame: pandas.DataFrame, parameters: Mapping[str, Any] | None = None
) -> SuiteVerdict:
    """Validate `frame` (a table read from DuckDB) against the suite `suite_name`.

    `parameters` gives the suite's parameters, the values of its `{"$PARAMETER": name}` arguments (a
    setting such as the drift threshold; GX raises if one is missing). Returns one outcome per
    expectation, in the suite's order, with counts only.
    """
    document = load_suite_document(suite_name)
    with validate_lock:
        definition = batch_definition()
        suite = _build_suite(document)
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=dict(RESULT_FORMAT), expectation_parameters=dict(parameters or {}))
    frame_columns = {str(c) for c in frame.columns}
    ranked = []
    for item in result.results:
        config = item.expectation_config
        meta = dict(config.meta or {})
        outcome = _outcome(
            suite_name,
            config.type,
            dict(config.kwargs),
            meta,
            item.success,
            item.result,
            item.exception_info,
            frame_columns,
        )
        ranked.append((meta.get(_ORDER_KEY, len(ranked)), outcome))
    ranked.sort(key=lambda pair: pair[0])
    return SuiteVerdict(
        suite=suite_name,
        table=document["meta"]["table"],
        n_rows=len(frame),
        outcomes=tuple(outcome for _, outcome in ranked),
        validation_result=scrub_validation_result(result.to_json_dict(), document["meta"]["table"]),
    )


# Expectations that judge each row on its own: over chunks of a table they give the verdict and the counts
# they give over the whole (the counts add up). Whole-table checks (`expect_table_...`) are judged once, on
# the table's row count; a suite with any other kind (uniqueness, a column's mean, ...) is never chunked.
_ROW_BY_ROW = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
    }
)
_TABLE_CHECKS = frozenset({"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"})
_ADDED_COUNTS = ("element_count", "missing_count", "unexpected_count")


def chunkable(suite_name: str) -> bool:
    """True when every check of the suite judges rows one by one or the table's row count."""
    return all(
        expectation["type"] in _ROW_BY_ROW | _TABLE_CHECKS
        for expectation in load_suite_document(suite_name)["expectations"]
    )


def _validated_json(document: dict[str, Any], frame: pandas.DataFrame) -> dict[str, Any]:
    """GX's result, as its JSON dict, of the expectations of `document` (each marked with its order)."""
    with validate_lock:
        batch = batch_definition().get_batch(batch_parameters={"dataframe": frame})
        suite = _build_suite(document, mark_order=False)
        return batch.validate(suite, result_format=dict(RESULT_FORMAT)).to_json_dict()


def _added(one: dict[str, Any] | None, other: dict[str, Any]) -> dict[str, Any]:
    """One expectation's results over two chunks, as GX would give them over both: counts added,
    percentages of the sums, success only if both succeeded, an exception if either raised."""
    if one is None:
        return other
    first, second = one.get("result") or {}, other.get("result") or {}
    result = {key: int(first.get(key) or 0) + int(second.get(key) or 0) for key in _ADDED_COUNTS if key in first}
    elements, missing = result.get("element_count", 0), result.get("missing_count", 0)
    unexpected, present = result.get("unexpected_count", 0), elements - missing
    percentages = {  # as GX defines each, of the added counts; only those GX gave for this check
        "missing_percent": missing / elements * 100 if elements else None,
        "unexpected_percent": unexpected / present * 100 if present else None,
        "unexpected_percent_total": unexpected / elements * 100 if elements else None,
        "unexpected_percent_nonmissing": unexpected / present * 100 if present else None,
    }
    result |= {key: value for key, value in percentages.items() if key in first}
    raised = isinstance(one.get("exception_info"), dict) and _raised(one["exception_info"])
    return {
        **one,
        "success": bool(one.get("success")) and bool(other.get("success")),
        "result": result,
        "exception_info": one["exception_info"] if raised else other.get("exception_info"),
    }


def validate_chunks(suite_name: str, chunks: Iterable[pandas.DataFrame], n_rows: int) -> SuiteVerdict:
    """Validate a table that is read in chunks against a `chunkable` suite: each row-by-row check over
    every chunk (its counts added up), each whole-table check once, on the table's row count (a frame of
    `n_rows` rows and no column: no memory). Memory stays that of one chunk, however large the table."""
    import pandas as pd

    document = load_suite_document(suite_name)
    ordered = [
        {**expectation, "meta": {**expectation.get("meta", {}), _ORDER_KEY: index}}
        for index, expectation in enumerate(document["expectations"])
    ]
    by_row = {**document, "expectations": [e for e in ordered if e["type"] not in _TABLE_CHECKS]}
    whole = {**document, "expectations": [e for e in ordered if e["type"] in _TABLE_CHECKS]}
    merged: dict[int, dict[str, Any]] = {}
    columns: set[str] = set()
    for chunk in chunks:
        columns |= {str(column) for column in chunk.columns}
        for item in _validated_json(by_row, chunk)["results"] if by_row["expectations"] else []:
            order = item["expectation_config"]["meta"][_ORDER_KEY]
            merged[order] = _added(merged.get(order), item)
    table_result = _validated_json(whole, pd.DataFrame(index=pd.RangeIndex(n_rows)))
    for item in table_result["results"]:
        merged[item["expectation_config"]["meta"][_ORDER_KEY]] = item
    results = [merged[order] for order in sorted(merged)]
    n_passed = sum(1 for item in results if item["success"])
    validation = {
        **table_result,
        "success": n_passed == len(results),
        "results": results,
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": n_passed,
            "unsuccessful_expectations": len(results) - n_passed,
            "success_percent": 100.0 * n_passed / len(results) if results else None,
        },
    }
    outcomes = [
        _outcome(
            suite_name,
            item["expectation_config"]["type"],
            dict(item["expectation_config"].get("kwargs") or {}),
            dict(item["expectation_config"].get("meta") or {}),
            item["success"],
            item.get("result"),
            item.get("exception_info"),
            columns,
        )
        for item in results
    ]
    return SuiteVerdict(
        suite=suite_name,
        table=document["meta"]["table"],
        n_rows=n_rows,
        outcomes=tuple(outcomes),
        validation_result=scrub_validation_result(validation, document["meta"]["table"]),
    )


def scrub_validation_result(result: dict[str, Any], table: str | None = None) -> dict[str, Any]:
    """GX's suite validation result (`to_json_dict()`) with no cell value left in it, in suite order.

    Per expectation only the counts in `_COUNT_KEYS` stay, and `observed_value` only for the whole-table
    statistics in `_SAFE_OBSERVED_VALUE`; an exception keeps the fact that it was raised, never its
    message or traceback. Of the run's meta only GX's version, the batch's kind and load time and the
    asset stay (the data fingerprint goes); `table` becomes the asset's name, so Data Docs name the
    table validated instead of the gate's one in-memory asset.
    """
    results = []
    for item in result.get("results") or []:
        config = dict(item.get("expectation_config") or {})
        check = config.get("type")
        meta = dict(config.get("meta") or {})
        order = meta.pop(_ORDER_KEY, len(results))
        config["meta"] = meta
        kept = {key: value for key, value in (item.get("result") or {}).items() if key in _COUNT_KEYS}
        observed = (item.get("result") or {}).get("observed_value")
        if check in _SAFE_OBSERVED_VALUE and isinstance(observed, int | float) and not isinstance(observed, bool):
            kept["observed_value"] = observed
        exception = item.get("exception_info") or {}
        raised = isinstance(exception, dict) and _raised(exception)
        results.append(
            (
                order,
                {
                    "success": bool(item.get("success")),
                    "expectation_config": config,
                    "result": kept,
                    "meta": {},
                    "exception_info": {
                        "raised_exception": raised,
                        "exception_message": EXCEPTION_LEFT_OUT if raised else None,
                        # GX renders the traceback of a raised exception as text: an empty one, never None.
                        "exception_traceback": "" if raised else None,
                    },
                },
            )
        )
    results.sort(key=lambda pair: pair[0])
    meta = result.get("meta") or {}
    definition = dict(meta.get("active_batch_definition") or {})
    if table:
        definition["data_asset_name"] = table
    batch_spec = {"batch_data": str((meta.get("batch_spec") or {}).get("batch_data", ""))}
    if table:
        batch_spec["data_asset_name"] = table  # what the pages' "Data asset" line shows
    kept_meta: dict[str, Any] = {
        "great_expectations_version": meta.get("great_expectations_version"),
        "batch_spec": batch_spec,
        "batch_markers": {"ge_load_time": (meta.get("batch_markers") or {}).get("ge_load_time")},
        "active_batch_definition": {
            key: definition.get(key)
            for key in ("datasource_name", "data_connector_name", "data_asset_name")
            if key in definition
        },
    }
    return {
        "success": bool(result.get("success")),
        "suite_name": result.get("suite_name"),
        "suite_parameters": {},
        "statistics": dict(result.get("statistics") or {}),
        "results": [item for _, item in results],
        "meta": kept_meta,
        "id": None,
    }


def describe_failures(verdicts: SuiteVerdict | Iterable[SuiteVerdict]) -> str:
    """One line per failed check, blocking ones first; an empty string when nothing failed."""
    if isinstance(verdicts, SuiteVerdict):
        verdicts = [verdicts]
    verdicts = list(verdicts)
    lines = []
    for severity in (BLOCKING, WARNING):
        for verdict in verdicts:
            failed = verdict.failed_blocking if severity == BLOCKING else verdict.failed_warning
            for outcome in failed:
                if outcome.column is None:
                    where = "the whole table"
                elif ", " in outcome.column:
                    where = f"columns {outcome.column}"
                else:
                    where = f"column {outcome.column}"
                lines.append(
                    f"{severity.upper()}: suite {verdict.suite} on table {verdict.table} "
                    f"({verdict.n_rows} rows), {where}: expected that "
                    f"{_lower_first(outcome.description)} Result: {outcome.observed}. "
                    f"[{outcome.check}]"
                )
    return "\n".join(lines)


def _lower_first(text: str) -> str:
    text = text.strip()
    if not text.endswith("."):
        text += "."
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text
