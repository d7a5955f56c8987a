"""Eligibility rules as data: a CEL expression (the Common Expression
Language, https://cel.dev) over one household, parsed by cel-python and
checked here, then compiled from the same tree two ways: one SQL condition
for the set-based pass over the read model, and a Python function for one
household when its event arrives.

    household.decile <= 4 && household.verified && within(household.village_code, "62.13")
    household.children > 0 || household.elderly > 0 || household.disabled > 0
    "kube" in household.group_kinds
    "sewing" in household.completed_skills

Both give CEL's verdict. A household whose decile is unknown makes
``household.decile <= 4`` an error in CEL; under ``&&``, ``||`` and ``!`` an
error behaves as SQL's NULL does (``error || true`` is true, ``!error`` an
error), and a rule whose value is an error or NULL is "not eligible". What
would part the two is refused when the rule is saved: comparing values of
different types, arithmetic, the ``?:`` operator, methods and maps.
"""
import functools
import re
from dataclasses import dataclass

import celpy
from celpy import celparser
from lark import Token, Tree

from setiakawan_contract.registry import GROUP_KINDS, STATUSES
from setiakawan_contract.training import SKILL_AREAS
from setiakawan_kit.auth import REGION_CODE, region_patterns, within as code_within

INT, STRING, BOOL, INT_LIST, STRING_LIST, EMPTY_LIST = \
    "int", "string", "bool", "list of int", "list of string", "empty list"

#: what a rule may read of ``household``: its type, and what it holds
FIELDS = {
    "decile": (INT, "welfare decile, 1 (poorest) to 10 (unknown to a rule while the read model holds none)"),
    "status": (STRING, ", ".join(STATUSES)),
    "verified": (BOOL, "status is verified"),
    "village_code": (STRING, "Kemendagri village code, e.g. 62.13.01.2003"),
    "members": (INT, "number of members"),
    "children": (INT, "members under 18"),
    "elderly": (INT, "members 60 or older"),
    "disabled": (INT, "members with a disability"),
    "group_kinds": (STRING_LIST, "kinds of the active community groups its members belong to: " + ", ".join(GROUP_KINDS)),
    "completed_skills": (STRING_LIST, "skill areas of the courses its members completed: " + ", ".join(SKILL_AREAS)),
}
#: the values a field can hold, from the contract: a rule naming another
#: (a typo: "verifed") would quietly reach nobody, so it is refused
VALUES = {"status": STATUSES, "group_kinds": GROUP_KINDS, "completed_skills": SKILL_AREAS}
NULLABLE = {"decile"}

#: the functions a rule may call, with what they take
FUNCTIONS = {
    "within": "within(household.village_code, \"62.13\"): the village lies in the region (any Kemendagri level)",
    "size": "size(household.group_kinds): how many",
}

MAX_LENGTH = 2000

_COMPARISONS = {"relation_lt": "<", "relation_le": "<=", "relation_gt": ">", "relation_ge": ">=",
                "relation_eq": "=", "relation_ne": "<>"}
_PYTHON_COMPARISONS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
                       ">=": lambda a, b: a >= b, "=": lambda a, b: a == b, "<>": lambda a, b: a != b}


class RuleError(ValueError):
    """A rule that cannot be saved; the message says why."""


class _Error:
    """A CEL error while evaluating (SQL's NULL): not eligible at the top."""

    def __repr__(self):
        return "ERROR"


ERROR = _Error()


@dataclass(frozen=True)
class Part:
    """A checked part of a rule: its type, its SQL (``%s`` for each of
    ``params``) and its Python function of a household."""
    type: str
    sql: str
    params: tuple
    evaluate: object
    literal: object = None  # the value, for a literal
    field: str = None  # the field's name, for a field of household


@dataclass(frozen=True)
class Rule:
    text: str
    part: Part

    def matches(self, household):
        """Whether the household (a dict of ``FIELDS``) is eligible."""
        return self.part.evaluate(household) is True


def parse(text):
    """The rule ``text`` checked and compiled; RuleError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("The rule is empty.")
    if len(text) > MAX_LENGTH:
        raise RuleError(f"The rule is longer than {MAX_LENGTH} characters.")
    try:
        tree = _parser().compile(text)
    except celparser.CELParseError as exc:
        where = f" at line {exc.line}, column {exc.column}" if getattr(exc, "line", None) else ""
        raise RuleError(f"Not a CEL expression: the text stops making sense{where}.") from None
    part = _compile(tree)
    if part.type != BOOL:
        raise RuleError(f"The rule must be true or false for a household; it is {_a(part.type)}.")
    return Rule(text, part)


@functools.lru_cache(maxsize=512)
def parsed(text):
    """``parse`` of a rule saved before: each stored rule is parsed once."""
    return parse(text)


@functools.lru_cache(maxsize=1)
def _parser():
    return celpy.Environment()


def _compile(node):
    if isinstance(node, Token):
        raise RuleError(f"Unexpected {node!s}.")
    handler = _HANDLERS.get(node.data)
    if handler is None:
        raise RuleError(_UNSUPPORTED.get(node.data, f"{node.data.replace('_', ' ')} is not supported in a rule."))
    return handler(node)


def _single(node):
    if len(node.children) != 1:
        raise RuleError(_UNSUPPORTED.get(node.data, "Not supported in a rule."))
    return _compile(node.children[0])


def _expr(node):
    if len(node.children) == 3:
        raise RuleError("The ?: operator is not supported in a rule; use && and ||.")
    return _single(node)


def _logical(sql_op):
    def compile_(node):
        if len(node.children) == 1:
            return _compile(node.children[0])
        left, right = (_compile(child) for child in node.children)
        for side in (left, right):
            if side.type != BOOL:
                raise RuleError(f"{'&&' if sql_op == 'AND' else '||'} joins true-or-false conditions, "
                                f"not {_a(side.type)}.")
        evaluate = _joined(left.evaluate, right.evaluate, decisive=sql_op == "OR")
        return Part(BOOL, f"({left.sql} {sql_op} {right.sql})", left.params + right.params, evaluate)
    return compile_


def _joined(left, right, decisive):
    """``&&`` (``decisive`` False) or ``||`` (True) as CEL has them: a side
    that decides wins over an error on the other side, as in SQL."""
    def evaluate(household):
        a, b = left(household), right(household)
        if a is decisive or b is decisive:
            return decisive
        return ERROR if a is ERROR or b is ERROR else not decisive
    return evaluate


def _relation(node):
    if len(node.children) == 1:
        return _compile(node.children[0])
    operator, right_node = node.children
    left = _compile(operator.children[0])
    right = _compile(right_node)
    if operator.data == "relation_in":
        return _membership(left, right)
    sql_op = _COMPARISONS[operator.data]
    if left.type != right.type or left.type not in (INT, STRING, BOOL):
        raise RuleError(f"{_a(left.type)} cannot be compared with {_a(right.type)}.".capitalize())
    if left.type != INT and sql_op not in ("=", "<>"):
        # strings order differently in PostgreSQL (its collation) and in CEL (code points)
        raise RuleError(f"{_a(left.type).capitalize()} can only be compared with == and !=.")
    _known_values(left, right)
    _known_values(right, left)
    compare = _PYTHON_COMPARISONS[sql_op]
    lhs, rhs = left.evaluate, right.evaluate

    def evaluate(household):
        a, b = lhs(household), rhs(household)
        return ERROR if a is ERROR or b is ERROR else compare(a, b)

    return Part(BOOL, f"({left.sql} {sql_op} {right.sql})", left.params + right.params, evaluate)


def _a(type_name):
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _known_values(field, other):
    """Refuse a literal that ``field`` can never hold."""
    allowed = VALUES.get(field.field)
    if allowed is None or other.literal is None:
        return
    values = other.literal if isinstance(other.literal, list) else [other.literal]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise RuleError(f"household.{field.field} never holds {', '.join(map(repr, unknown))}; "
                        f"its values are {', '.join(allowed)}.")


def _membership(left, right):
    if right.type == EMPTY_LIST and left.type in (INT, STRING):
        right = Part(INT_LIST if left.type == INT else STRING_LIST, right.sql + ("::int[]" if left.type == INT else
                     "::text[]"), right.params, right.evaluate, right.literal)
    if right.type == INT_LIST and left.type == INT or right.type == STRING_LIST and left.type == STRING:
        _known_values(right, left)
        _known_values(left, right)
        lhs, rhs = left.evaluate, right.evaluate

        def evaluate(household):
            a, values = lhs(household), rhs(household)
            if a is ERROR:
                return ERROR if values else False
            return a in values

        return Part(BOOL, f"({left.sql} = ANY({right.sql}))", left.params + right.params, evaluate)
    raise RuleError(f"in asks whether a value is in a list: {_a(left.type)} cannot be in {_a(right.type)}.")


def _unary(node):
    if len(node.children) == 1:
        return _compile(node.children[0])
    operator, operand_node = node.children
    if operator.data != "unary_not":
        raise RuleError("Only ! may stand before a condition (write a negative number as -4).")
    operand = _compile(operand_node)
    if operand.type != BOOL:
        raise RuleError(f"! applies to a condition, not {_a(operand.type)}.")
    inner = operand.evaluate
    negations = len(operator.children) or 1  # the grammar may gather several !

    def evaluate(household):
        value = inner(household)
        return ERROR if value is ERROR else value if negations % 2 == 0 else not value

    sql = operand.sql
    for _ in range(negations):
        sql = f"(NOT {sql})"
    return Part(BOOL, sql, operand.params, evaluate)


def _member(node):
    if len(node.children) != 1:
        raise RuleError("Not supported in a rule.")
    return _compile(node.children[0])


def _member_dot(node):
    target, name = node.children
    if _is_name(target) and not _is_household(target):
        _compile(target)  # an unknown name, said as such
    if not _is_household(target):
        raise RuleError("A rule reads the fields of household (household.decile …), nothing deeper.")
    field = str(name)
    if field not in FIELDS:
        raise RuleError(f"household has no field {field}; it has {', '.join(FIELDS)}.")
    field_type = FIELDS[field][0]
    if field in NULLABLE:
        def evaluate(household):
            value = household[field]
            return ERROR if value is None else value
    else:
        def evaluate(household):
            return household[field]
    return Part(field_type, "{" + field + "}", (), evaluate, field=field)


def _is_name(node):
    return (isinstance(node, Tree) and node.data == "member" and len(node.children) == 1
            and node.children[0].data == "primary" and node.children[0].children[0].data == "ident")


def _is_household(node):
    return _is_name(node) and str(node.children[0].children[0].children[0]) == "household"


def _primary(node):
    return _compile(node.children[0])


def _ident(node):
    name = str(node.children[0])
    if name == "household":
        raise RuleError("A rule compares a field of household (household.decile …), not the household itself.")
    raise RuleError(f"Unknown name {name}: a rule reads household's fields ({', '.join(FIELDS)}).")


def _call(node):
    name, arguments = str(node.children[0]), node.children[1:]
    args = [_compile(expr) for expr in arguments[0].children] if arguments else []
    if name == "within":
        return _within(args)
    if name == "size":
        if len(args) != 1 or args[0].type not in (INT_LIST, STRING_LIST):
            raise RuleError("size takes one list: size(household.group_kinds).")
        (arg,) = args
        inner = arg.evaluate
        return Part(INT, f"cardinality({arg.sql})", arg.params, lambda household: len(inner(household)))
    raise RuleError(f"Unknown function {name}; a rule may call {', '.join(FUNCTIONS)}.")


def _within(args):
    if len(args) != 2 or args[0].type != STRING or args[1].literal is None or args[1].type != STRING \
            or args[0].literal is not None:
        raise RuleError('within takes a code and a region: within(household.village_code, "62.13").')
    field, region = args[0], args[1].literal
    if not REGION_CODE.match(region):
        raise RuleError(f"{region!r} is not a Kemendagri region code (like 62, 62.13, 62.13.01 or 62.13.01.2003).")
    inner = field.evaluate
    return Part(BOOL, f"({field.sql} = %s OR {field.sql} LIKE %s)", tuple(region_patterns([region])),
                lambda household: code_within(inner(household), [region]))


def _list(node):
    items = [_compile(expr) for expr in node.children[0].children] if node.children else []
    if any(item.literal is None for item in items):
        raise RuleError("A list in a rule holds numbers or strings written out, like [1, 2] or [\"kube\", \"lks\"].")
    types = {item.type for item in items}
    if len(types) > 1 or types - {INT, STRING}:
        raise RuleError("A list in a rule holds numbers or strings, not both.")
    values = [item.literal for item in items]
    if not values:  # its type is the one of what is looked for in it
        return Part(EMPTY_LIST, "%s", (values,), lambda household: values, literal=values)
    list_type = INT_LIST if types == {INT} else STRING_LIST
    cast = "::int[]" if list_type == INT_LIST else "::text[]"
    return Part(list_type, "%s" + cast, (values,), lambda household: values, literal=values)


_STRING = re.compile(r'^"((?:[^"\\\n]|\\["\\])*)"$|^\'((?:[^\'\\\n]|\\[\'\\])*)\'$')


def _literal(node):
    token = node.children[0]
    text = str(token)
    if token.type == "INT_LIT":
        value = int(text)
        if not -2**31 <= value < 2**31:
            raise RuleError(f"{text} is out of range.")
        return Part(INT, "%s", (value,), lambda household: value, literal=value)
    if token.type == "BOOL_LIT":
        value = text == "true"
        return Part(BOOL, "%s", (value,), lambda household: value, literal=value)
    if token.type == "STRING_LIT":
        match = _STRING.match(text)
        if not match:
            raise RuleError(f"Write {text} as a plain quoted string (no raw, triple-quoted or escaped forms "
                            "other than \\\" and \\\\).")
        value = re.sub(r"\\(.)", r"\1", match.group(1) if match.group(1) is not None else match.group(2))
        return Part(STRING, "%s", (value,), lambda household: value, literal=value)
    if token.type == "NULL_LIT":
        raise RuleError("null is not supported in a rule.")
    raise RuleError(f"{text}: a rule compares whole numbers, strings and true/false.")


_HANDLERS = {
    "expr": _expr, "conditionalor": _logical("OR"), "conditionaland": _logical("AND"), "relation": _relation,
    "addition": _single, "multiplication": _single, "unary": _unary, "member": _member,
    "member_dot": _member_dot, "primary": _primary, "ident": _ident, "ident_arg": _call, "list_lit": _list,
    "literal": _literal, "paren_expr": _single,
}

_UNSUPPORTED = {
    "addition": "Arithmetic is not supported in a rule; compare fields with numbers.",
    "multiplication": "Arithmetic is not supported in a rule; compare fields with numbers.",
    "member_dot_arg": "Methods are not supported in a rule; use within(household.village_code, \"62.13\").",
    "member_index": "Indexing is not supported in a rule; write household.field.",
    "member_object": "Messages are not supported in a rule.",
    "map_lit": "Maps are not supported in a rule.",
    "dot_ident": "A rule reads household's fields (household.decile …).",
    "dot_ident_arg": "A rule reads household's fields (household.decile …).",
}


def condition(rule, columns):
    """(SQL condition, params) of ``rule`` over the read model, ``columns``
    {field: SQL expression of it}; a ``%`` in an expression must be doubled."""
    return rule.part.sql.format(**columns), list(rule.part.params)
