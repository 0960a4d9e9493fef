"""The safety gate every LedgerGPT statement passes, whoever wrote it.

The statement is parsed with sqlglot (exactly one), and the whole tree is searched: it must be
one SELECT (or UNION of SELECTs) with no write, DDL, SELECT INTO or locking clause anywhere
(CTEs included), reading only allow-listed views and columns for the asking role, calling only
allow-listed functions, with bound parameters only where the caller supplied them. A row
limit is added. What runs is the SQL sqlglot generates from the checked tree, without comments,
never the text that came in.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.schema import MappingSchema

from ledgerbank.errors import UnsafeQuery
from ledgerbank.ledgergpt.allowlist import ALLOW_LIST

MAX_SQL_LENGTH: Final = 8_000
SQLGLOT_DIALECTS: Final = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql"}
PARAM_SENTINEL: Final = "__ledgergpt_param_{}__"

# Node types that may not appear anywhere in the tree.
_FORBIDDEN_NAMES = (
    "Insert", "Update", "Delete", "Merge", "Copy", "Create", "Drop", "Alter", "AlterColumn",
    "TruncateTable", "Command", "Into", "Lock", "Pragma", "Set", "SetItem", "Transaction",
    "Commit", "Rollback", "Attach", "Detach", "Use", "Describe", "Show", "Grant", "Revoke",
    "LoadData", "Cache", "Uncache", "Refresh", "Analyze", "Kill", "Declare", "Returning",
    "Export", "Summarize", "Execute", "Lateral", "Values", "Unnest", "Explode",
)  # fmt: skip
_FORBIDDEN: Final = tuple(
    getattr(exp, name) for name in _FORBIDDEN_NAMES if isinstance(getattr(exp, name, None), type)
)

# Functions a question may call: aggregates, windows, text, numbers, dates. Nothing that
# sleeps, reads files, loads extensions, locks, or reaches outside the query.
_ALLOWED_FUNCTION_NAMES = (
    "Count", "Sum", "Avg", "Max", "Min", "Stddev", "StddevPop", "StddevSamp", "Variance",
    "VariancePop", "GroupConcat", "ArrayAgg", "CountIf", "Coalesce", "Nullif", "If", "Case",
    "Cast", "TryCast", "Lower", "Upper", "Length", "Trim", "Substring", "Concat", "ConcatWs",
    "Left", "Right", "Replace", "Round", "Abs", "Floor", "Ceil", "Greatest", "Least", "Sign",
    "Mod", "TimeToStr", "TsOrDsToTimestamp", "TimestampTrunc", "DateTrunc", "Extract", "Date",
    "CurrentDate", "CurrentTimestamp", "CurrentDatetime", "Year", "Month", "Day", "DayOfWeek",
    "DayOfMonth", "DayOfYear", "Quarter", "Week", "WeekOfYear", "DateAdd", "DateSub",
    "DateDiff", "TimestampAdd", "TimestampSub", "TimestampDiff", "StrToTime", "StrToDate",
    "TimeStrToTime", "TsOrDsToDate", "RowNumber", "Rank", "DenseRank", "PercentRank",
    "CumeDist", "Ntile", "Lag", "Lead", "FirstValue", "LastValue", "NthValue", "Percentile",
    "PercentileCont", "PercentileDisc", "Median", "ApproxDistinct", "Initcap", "Pad",
    "StrPosition", "ToChar", "DateStrToDate", "UnixToTime", "TimeToUnix", "And", "Or", "Xor",
    "Exists", "Pow", "JSONExtract", "JSONExtractScalar",
)  # fmt: skip
_ALLOWED_FUNCTIONS: Final = tuple(
    getattr(exp, name)
    for name in _ALLOWED_FUNCTION_NAMES
    if isinstance(getattr(exp, name, None), type)
)
# Functions sqlglot does not model, allowed by name (lower case).
_ALLOWED_ANONYMOUS: Final = frozenset(
    {
        "julianday",
        "strftime",
        "date_format",
        "to_char",
        "ifnull",
        "printf",
        "datetime",
        "date_part",
        "char_length",
        "lpad",
        "rpad",
        "instr",
        "total",
    }
)


@dataclass(frozen=True)
class CheckedQuery:
    """A statement the gate let through: the SQL to show and the template to run."""

    sql: str  # placeholders as :name
    template: str  # placeholders as PARAM_SENTINEL, for the runner's driver style
    views: tuple[str, ...]
    row_limit: int


def refuse(reason: str) -> UnsafeQuery:
    return UnsafeQuery(f"refused by the safety gate: {reason}", reason=reason)


def check(
    sql: str,
    *,
    dialect: str,
    readable: dict[str, frozenset[str]],
    row_limit: int,
    params: Collection[str] = (),
) -> CheckedQuery:
    """Let `sql` through as one safe, limited SELECT over readable views, or raise UnsafeQuery.

    The check is a pure function of its inputs, so the offline engine's statements (whose
    values are all parameters) are checked once and remembered.
    """
    dialect = "mysql" if dialect == "mariadb" else dialect
    frozen = tuple((view, frozenset(columns)) for view, columns in readable.items())
    return _check_cached(sql, dialect, frozen, row_limit, tuple(sorted(params)))


@lru_cache(maxsize=64)
def _mapping_schema(frozen: tuple[tuple[str, frozenset[str]], ...], dialect: str) -> MappingSchema:
    """The readable views as sqlglot's schema (types from the allow-list), in column order."""
    schema: dict[str, object] = {}
    for view, columns in frozen:
        declared = ALLOW_LIST[view].columns if view in ALLOW_LIST else {}
        ordered = [c for c in declared if c in columns] + sorted(columns - declared.keys())
        schema[view] = {column: declared.get(column, "TEXT") for column in ordered}
    return MappingSchema(schema, dialect=dialect)


@lru_cache(maxsize=1024)
def _check_cached(
    sql: str,
    dialect: str,
    frozen: tuple[tuple[str, frozenset[str]], ...],
    row_limit: int,
    params: tuple[str, ...],
) -> CheckedQuery:
    readable = dict(frozen)
    read_as = SQLGLOT_DIALECTS[dialect]
    if len(sql) > MAX_SQL_LENGTH:
        raise refuse(f"statement longer than {MAX_SQL_LENGTH} characters")
    if "\x00" in sql:
        raise refuse("statement contains a NUL character")
    try:
        statements = list(sqlglot.parse(sql, read=read_as, error_level=ErrorLevel.RAISE))
    except (ParseError, TokenError, SqlglotError, RecursionError, ValueError) as exc:
        raise refuse(f"the statement could not be parsed ({type(exc).__name__})") from None
    present = [s for s in statements if s is not None]
    if len(present) != 1 or len(statements) > 2 or (len(statements) == 2 and statements[1]):
        raise refuse("exactly one statement is allowed")
    tree = present[0]
    while isinstance(tree, exp.Subquery | exp.Paren) and isinstance(tree.this, exp.Query):
        tree = tree.this
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise refuse(f"only SELECT is allowed, not {tree.key.upper()}")
    _check_nodes(tree, params)
    _bound_built_values(tree)
    views = _check_tables(tree, readable)
    _refuse_hidden_names(tree, readable, views)
    _refuse_whole_rows(tree)
    _refuse_hidden_json_keys(tree, readable)
    if not _simple_columns_allowed(tree, readable):
        qualified = _check_columns(tree, _mapping_schema(frozen, read_as), read_as)
        if _has_star_projection(tree):
            tree = qualified  # stars expanded to the columns this role may read, nothing more
    _limit(tree, row_limit)
    names = []
    for placeholder in list(tree.find_all(exp.Placeholder)):
        names.append(placeholder.name)
        placeholder.replace(exp.var(PARAM_SENTINEL.format(placeholder.name)))
    template = tree.sql(dialect=read_as, comments=False)
    display = template
    for name in names:
        display = display.replace(PARAM_SENTINEL.format(name), f":{name}")
    return CheckedQuery(
        sql=display, template=template, views=tuple(sorted(views)), row_limit=row_limit
    )


def _check_nodes(tree: exp.Expression, params: Collection[str]) -> None:
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            raise refuse(f"{node.key.upper()} is not allowed")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise refuse("recursive CTEs are not allowed")
        if isinstance(node, exp.Placeholder):
            if not node.name or node.name not in params:
                raise refuse("parameters are only allowed where the engine binds them")
        elif isinstance(node, exp.Parameter | exp.SessionParameter):
            raise refuse("session variables and parameters are not allowed")
        elif isinstance(node, exp.Anonymous):
            name = str(node.name).lower()
            if name not in _ALLOWED_ANONYMOUS:
                raise refuse(f"function {name}() is not allowed")
        elif isinstance(node, exp.Func) and not isinstance(node, _ALLOWED_FUNCTIONS):
            raise refuse(f"function {node.sql_name().lower()}() is not allowed")
        if isinstance(node, exp.Var) and node.name.startswith("__ledgergpt_param_"):
            raise refuse("reserved name")


def _check_tables(tree: exp.Expression, readable: dict[str, frozenset[str]]) -> set[str]:
    """Every table a scope reads is an allowed view or a CTE of that scope's query."""
    covered: set[int] = set()
    views: set[str] = set()
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, SqlglotError, RecursionError) as exc:
        raise refuse(f"the statement's structure could not be checked ({exc})") from None
    for scope in scopes:
        for node, source in scope.selected_sources.values():
            if isinstance(node, exp.Table):
                covered.add(id(node))  # a CTE reference, or checked just below
            if isinstance(source, exp.Table):
                _allowed_table(source, readable)
                views.add(source.name.lower())
    for table in tree.find_all(exp.Table):
        if id(table) not in covered:
            _allowed_table(table, readable)
            views.add(table.name.lower())
    if not views:
        raise refuse("the statement reads no allowed view")
    return views


def _allowed_table(table: exp.Table, readable: dict[str, frozenset[str]]) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise refuse("table functions are not allowed")
    if table.args.get("db") or table.args.get("catalog"):
        raise refuse("schema-qualified names are not allowed")
    if table.name.lower() not in readable:
        raise refuse(f"'{table.name}' is not a view you may read")


def _check_columns(tree: exp.Expression, schema: MappingSchema, dialect: str) -> exp.Expression:
    try:
        return qualify(
            tree.copy(),
            schema=schema,
            dialect=dialect,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
    except OptimizeError as exc:
        raise refuse(f"{str(exc).split('. Line')[0]} among the columns you may read") from None
    except (SqlglotError, RecursionError, KeyError, ValueError, TypeError) as exc:
        raise refuse(f"the columns could not be checked ({type(exc).__name__})") from None


def _simple_columns_allowed(tree: exp.Expression, readable: dict[str, frozenset[str]]) -> bool:
    """The quick check for one SELECT over one view (no join, subquery, CTE or star).

    True when every column is an allowed column of that view, or an output alias named in
    ORDER BY; False when the statement is not that simple (sqlglot's qualifier decides then).
    Raises UnsafeQuery for a column the role may not read.
    """
    if not isinstance(tree, exp.Select) or tree.args.get("joins") or _has_star_projection(tree):
        return False
    source = tree.args.get("from_")
    if source is None or not isinstance(source.this, exp.Table):
        return False
    for node in tree.walk():
        if node is not tree and isinstance(node, exp.Query | exp.Subquery | exp.With):
            return False
    table = source.this
    allowed = readable[table.name.lower()]
    names = {table.name.lower(), table.alias_or_name.lower()}
    aliases = {p.alias.lower() for p in tree.expressions if isinstance(p, exp.Alias)}
    order = tree.args.get("order")
    ordering = {id(c) for c in order.find_all(exp.Column)} if order is not None else set()
    for column in tree.find_all(exp.Column):
        name = column.name.lower()
        if column.table and column.table.lower() not in names:
            raise refuse(f"column {column.sql()} names no table of the statement")
        if name in allowed:
            continue
        if not column.table and name in aliases and id(column) in ordering:
            continue
        return False  # perhaps an alias elsewhere: sqlglot's qualifier decides
    return True


def _refuse_hidden_names(
    tree: exp.Expression, readable: dict[str, frozenset[str]], views: set[str]
) -> None:
    """No reference anywhere may carry the name of a column the role may not read.

    An alias of the same name is no way round it: SQLite, for one, resolves a WHERE clause's
    name to the view's own column before an output alias.
    """
    hidden = {
        column
        for view in views
        if view in ALLOW_LIST
        for column in ALLOW_LIST[view].columns
        if column not in readable.get(view, frozenset())
    }
    if not hidden:
        return
    for column in tree.find_all(exp.Column):
        if column.name.lower() in hidden:
            raise refuse(f"Column '{column.name}' is not among the columns you may read")


# How big a value a statement may build: every text it makes is bounded by what it reads.
MAX_FORMAT_WIDTH: Final = 100  # printf('%100s', ...)
MAX_PAD_LENGTH: Final = 1_000  # lpad(x, 1000, ...)
MAX_TYPE_LENGTH: Final = 1_000  # CAST(x AS CHAR(1000)) (PostgreSQL pads CHAR(n) to n)
MAX_CONCATENATED: Final = 32  # parts of one concatenation
_FORMAT_SPEC = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?")
_AGGREGATED_TEXT = (exp.GroupConcat, exp.ArrayAgg)
_CONCATENATIONS = (exp.DPipe, exp.Concat, exp.ConcatWs)


def _bound_built_values(tree: exp.Expression) -> None:
    """Refuse what could build a value much larger than the values it reads: formats and pads
    of unbounded width, replacements that grow, long concatenations, text aggregated over rows.
    (SQLite also caps every value's length at run time; the others have no such limit.)"""
    for node in tree.walk():
        if isinstance(node, _AGGREGATED_TEXT):
            raise refuse("aggregating rows into one text value is not allowed (no size bound)")
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == "printf":
            _bounded_format(node.expressions[0] if node.expressions else None)
        elif isinstance(node, exp.Pad) or (
            isinstance(node, exp.Anonymous) and str(node.name).lower() in ("lpad", "rpad")
        ):
            length = (
                node.args.get("expression")
                if isinstance(node, exp.Pad)
                else (node.expressions[1] if len(node.expressions) > 1 else None)
            )
            if _integer(length) is None or (_integer(length) or 0) > MAX_PAD_LENGTH:
                raise refuse(f"pad lengths must be whole numbers up to {MAX_PAD_LENGTH}")
        elif isinstance(node, exp.Replace):
            old, new = node.args.get("expression"), node.args.get("replacement")
            if not (_is_text(old) and (new is None or _is_text(new))) or (
                new is not None and len(new.name) > max(len(old.name), 1)  # type: ignore[union-attr]
            ):
                raise refuse(
                    "replace() takes literal texts, the replacement no longer than what it replaces"
                )
        elif isinstance(node, exp.DataType):
            for param in node.find_all(exp.DataTypeParam):
                size = _integer(param.this) if isinstance(param.this, exp.Expression) else None
                if size is not None and size > MAX_TYPE_LENGTH:
                    raise refuse(f"type lengths above {MAX_TYPE_LENGTH} are not allowed")
        elif (
            isinstance(node, _CONCATENATIONS)
            and not isinstance(node.parent, _CONCATENATIONS)
            and _concatenated(node) > MAX_CONCATENATED
        ):
            raise refuse(f"one concatenation may join at most {MAX_CONCATENATED} parts")


def _bounded_format(pattern: exp.Expression | None) -> None:
    if not _is_text(pattern):
        raise refuse("printf() needs a literal format")
    for match in _FORMAT_SPEC.finditer(pattern.name):  # type: ignore[union-attr]
        for size in match.groups():
            if size == "*" or (size is not None and int(size) > MAX_FORMAT_WIDTH):
                raise refuse(f"printf() widths must be literal numbers up to {MAX_FORMAT_WIDTH}")


def _concatenated(node: exp.Expression) -> int:
    if isinstance(node, exp.DPipe):
        return sum(_concatenated(part) for part in (node.this, node.expression))
    if isinstance(node, exp.Concat | exp.ConcatWs):
        return sum(_concatenated(part) for part in node.expressions)
    return 1


def _is_text(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _integer(node: exp.Expression | None) -> int | None:
    if isinstance(node, exp.Neg):
        return None
    if isinstance(node, exp.Literal) and node.is_int:
        return int(node.name)
    return None


def _refuse_whole_rows(tree: exp.Expression) -> None:
    """No row as one value (`SELECT t FROM vw_customers t`, `(t.*)::text`): PostgreSQL would
    hand over every column of the view, the ones the role may not read too."""
    names: set[str] = set()
    for table in tree.find_all(exp.Table):
        names.update(n.lower() for n in (table.name, table.alias) if n)
    for alias in tree.find_all(exp.TableAlias):
        if alias.name:
            names.add(alias.name.lower())
    for cte in tree.find_all(exp.CTE):
        if cte.alias:
            names.add(cte.alias.lower())
    for column in tree.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            if not isinstance(column.parent, exp.Select | exp.Count):
                raise refuse("a whole row as one value is not allowed")
        elif not column.table and column.name.lower() in names:
            raise refuse(f"'{column.name}' names a row, not a column: whole rows are not allowed")
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Select | exp.Count | exp.Column):
            raise refuse("a whole row as one value is not allowed")


_JSON_ACCESS_NAMES = (
    "JSONExtract", "JSONExtractScalar", "JSONBExtract", "JSONBExtractScalar", "JSONValue",
    "JSONExtractArray", "JSONExists", "JSONQuery",
)  # fmt: skip
_JSON_ACCESS = tuple(
    getattr(exp, name) for name in _JSON_ACCESS_NAMES if isinstance(getattr(exp, name, None), type)
)
_JSON_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _refuse_hidden_json_keys(tree: exp.Expression, readable: dict[str, frozenset[str]]) -> None:
    """JSON paths are literal, plain keys (no wildcard), and none names a column the role may
    not read (an audit state's `email`, say)."""
    hidden = {
        column.lower()
        for view, grant in ALLOW_LIST.items()
        for column in grant.guarded
        if column not in readable.get(view, frozenset())
    }
    for node in tree.walk():
        if not isinstance(node, _JSON_ACCESS):
            continue
        paths = [node.args.get(key) for key in ("expression", "path")]
        paths += list(node.args.get("expressions") or [])
        for path in paths:
            if path is None:
                continue
            for key in _json_keys(path):
                if key.lower() in hidden:
                    raise refuse(f"the JSON key '{key}' is not among what you may read")


def _json_keys(path: exp.Expression) -> list[str]:
    if isinstance(path, exp.JSONPath):
        keys = []
        for part in path.expressions:
            if isinstance(part, exp.JSONPathRoot):
                continue
            if isinstance(part, exp.JSONPathSubscript) and _integer_part(part.this):
                continue
            if isinstance(part, exp.JSONPathKey) and isinstance(part.this, str):
                if not _JSON_KEY.fullmatch(part.this):
                    raise refuse("JSON keys must be plain names")
                keys.append(part.this)
                continue
            raise refuse("JSON paths may only name keys and positions (no wildcards)")
        return keys
    if _is_text(path):
        text = path.name
        if not re.fullmatch(r"[$.\[\]{}A-Za-z0-9_\"', ]*", text) or "*" in text:
            raise refuse("JSON paths may only name keys and positions (no wildcards)")
        return _JSON_KEY.findall(text)
    raise refuse("JSON paths must be literal")


def _integer_part(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_star_projection(tree: exp.Expression) -> bool:
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or (
                isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
            ):
                return True
    return False


def _limit(tree: exp.Expression, row_limit: int) -> None:
    """At most `row_limit` rows: keep a smaller literal LIMIT, otherwise set it."""
    limit = tree.args.get("limit")
    if isinstance(limit, exp.Fetch):
        count = limit.args.get("count")
        if isinstance(count, exp.Literal) and count.is_int and int(count.name) <= row_limit:
            return
        raise refuse("use LIMIT rather than FETCH for more rows")
    if isinstance(limit, exp.Limit):
        value = limit.expression
        if not (isinstance(value, exp.Literal) and value.is_int):
            raise refuse("LIMIT must be a whole number")
        if int(value.name) <= row_limit:
            return
    offset = tree.args.get("offset")
    if offset is not None and not (
        isinstance(offset.expression, exp.Literal) and offset.expression.is_int
    ):
        raise refuse("OFFSET must be a whole number")
    tree.set("limit", exp.Limit(expression=exp.Literal.number(row_limit)))
