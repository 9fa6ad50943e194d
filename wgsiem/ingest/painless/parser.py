"""Painless tokens to a syntax tree, following PainlessParser.g4.

Every node keeps `pos` (the offset Painless reports for it: the first token of the rule that
made it, so the `.` of a field access or a call, the `[` of an index, the left operand of a
binary operator) and `start`/`end` (the text it spans, for messages). The parser only
checks the grammar; names, types and what the offline engine supports are the compiler's.
"""

from __future__ import annotations

from typing import Any

from .errors import PainlessCompileError
from .lexer import KEYWORDS, Tok, tokenize

PRIMITIVE_NAMES = frozenset({"boolean", "byte", "short", "char", "int", "long", "float", "double"})
ASSIGN_OPS = frozenset({"=", "+=", "-=", "*=", "/=", "%=", "&=", "^=", "|=", "<<=", ">>=", ">>>="})

# Binary operators of noncondexpression by precedence, loosest first (the grammar lists them
# tightest first): elvis, ||, &&, |, ^, &, equality, instanceof, relational, shifts, =~ ==~, + -, * / %.
ELVIS, OR, AND, BWOR, XOR, BWAND, EQ, INSTANCEOF, REL, SHIFT, FIND, ADD, MUL = range(1, 14)
BINARY_PRECEDENCE = {
    "?:": ELVIS, "||": OR, "&&": AND, "|": BWOR, "^": XOR, "&": BWAND,
    "==": EQ, "!=": EQ, "===": EQ, "!==": EQ, "instanceof": INSTANCEOF,
    "<": REL, "<=": REL, ">": REL, ">=": REL, "<<": SHIFT, ">>": SHIFT, ">>>": SHIFT,
    "=~": FIND, "==~": FIND, "+": ADD, "-": ADD, "*": MUL, "/": MUL, "%": MUL,
}  # fmt: skip


class Node:
    """A syntax node: `kind` says which, the rest are its parts."""

    __slots__ = ("kind", "pos", "start", "end", "a", "b", "c", "d")

    def __init__(self, kind: str, pos: int, start: int, end: int, a: Any = None, b: Any = None, c: Any = None, d: Any = None) -> None:
        self.kind = kind
        self.pos = pos
        self.start = start
        self.end = end
        self.a = a
        self.b = b
        self.c = c
        self.d = d

    def __repr__(self) -> str:
        parts = [repr(x) for x in (self.a, self.b, self.c, self.d) if x is not None]
        return f"{self.kind}({', '.join(parts)})"


# Expression kinds and their parts:
#   num a=text | str a=value | bool a=value | null | regex a=pattern b=flags
#   var a=name | field a=recv b=name c=null_safe | index a=recv b=index
#   call a=recv b=name c=args d=null_safe | localcall a=name b=args
#   new a=type b=args | newarray a=component type b=dimension exprs c=initializer items
#   list a=items | map a=[(key, value)] | unary a=op b=operand | cast a=type b=operand
#   binary a=op b=left c=right | instanceof a=expr b=type | cond a=cond b=then c=else
#   assign a=op b=target c=value | incdec a=op b=target c=prefix
#   lambda a=[(type or None, name)] b=body (expression node or block) | funcref a=type or "this" b=name
# Statement kinds: block a=[stmts] | expr a=expr | decl a=type b=[(name, init, pos)] | if a b c
#   while a=cond b=body | do a=body b=cond | for a=init b=cond c=update d=body
#   each a=type b=name c=iterable d=body | break | continue | return a=expr | throw a=expr
#   try a=block b=[(type, name, block)] | function a=return type b=name c=[(type, name)] d=block
#   empty (a lone `;` as a loop body)


class Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        # Offsets where statements start (PainlessScript's statement table, for script_stack).
        self.statement_starts: list[int] = []

    # -- tokens --

    def peek(self, ahead: int = 0) -> Tok:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Tok:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def is_op(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "op" and tok.text == text

    def is_word(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "id" and tok.text == text

    def error(self, reason: str, position: int, expected: str | None = None) -> PainlessCompileError:
        return PainlessCompileError(reason, self.source, position, expected)

    def unexpected(self, tok: Tok, expected: str) -> PainlessCompileError:
        what = "end of input" if tok.kind == "eof" else repr(tok.text)
        return self.error(f"unexpected {what}: expected {expected}", tok.start, expected)

    def expect(self, text: str) -> Tok:
        tok = self.peek()
        if tok.kind == "op" and tok.text == text:
            return self.advance()
        raise self.unexpected(tok, repr(text))

    def expect_word(self, text: str) -> Tok:
        tok = self.peek()
        if tok.kind == "id" and tok.text == text:
            return self.advance()
        raise self.unexpected(tok, repr(text))

    def name(self, what: str) -> Tok:
        tok = self.peek()
        if tok.kind == "id" and tok.text not in KEYWORDS:
            return self.advance()
        raise self.unexpected(tok, what)

    # -- types --

    def type_at(self, ahead: int = 0) -> int:
        """How many tokens a decltype at `ahead` spans (0 if none): def, a primitive, or a
        name with `.Name` parts, each followed by any number of `[]`."""
        tok = self.peek(ahead)
        if tok.kind != "id":
            return 0
        n = 1
        if tok.text in ("def",) or tok.text in PRIMITIVE_NAMES:
            pass
        elif tok.text in KEYWORDS:
            return 0
        else:
            while self.is_op(".", ahead + n) and self.peek(ahead + n + 1).kind == "field" and self.peek(ahead + n + 1).text[:1].isalpha():
                n += 2
        while self.is_op("[", ahead + n) and self.is_op("]", ahead + n + 1):
            n += 2
        return n

    def decltype(self) -> tuple[str, int]:
        n = self.type_at()
        if n == 0:
            raise self.unexpected(self.peek(), "a type")
        start = self.peek().start
        parts = [self.advance().text for _ in range(n)]
        return "".join(parts), start

    # -- source --

    def parse(self) -> tuple[list[Node], list[Node]]:
        """(functions, statements) of a whole script."""
        functions: list[Node] = []
        while self._at_function():
            functions.append(self.function())
        statements: list[Node] = []
        while self.peek().kind != "eof":
            statements.append(self.statement(top=True))
        return functions, statements

    def _at_function(self) -> bool:
        n = self.type_at()
        return n > 0 and self.peek(n).kind == "id" and self.peek(n).text not in KEYWORDS and self.is_op("(", n + 1)

    def function(self) -> Node:
        ret, start = self.decltype()
        name = self.name("a function name")
        self.expect("(")
        params: list[tuple[str, str]] = []
        if not self.is_op(")"):
            while True:
                ptype, _ = self.decltype()
                params.append((ptype, self.name("a parameter name").text))
                if not self.is_op(","):
                    break
                self.advance()
        self.expect(")")
        body = self.block()
        return Node("function", start, start, body.end, ret, name.text, params, body)

    # -- statements --

    def statement(self, top: bool = False, in_block: bool = False) -> Node:
        tok = self.peek()
        self.statement_starts.append(tok.start)
        if tok.kind == "id":
            word = tok.text
            if word == "if":
                return self.if_statement()
            if word == "while":
                return self.while_statement()
            if word == "for":
                return self.for_statement()
            if word == "try":
                return self.try_statement()
        node = self.dstatement()
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text == ";":
            self.advance()
        elif not (nxt.kind == "eof" and top or in_block and nxt.kind == "op" and nxt.text == "}"):
            raise self.unexpected(nxt, "';' or '}'" if in_block else "';' or end of input" if top else "';'")
        return node

    def dstatement(self) -> Node:
        tok = self.peek()
        if tok.kind == "id":
            word = tok.text
            if word == "do":
                self.advance()
                body = self.block()
                self.expect_word("while")
                self.expect("(")
                cond = self.expression()
                close = self.expect(")")
                return Node("do", tok.start, tok.start, close.end, body, cond)
            if word == "continue" or word == "break":
                self.advance()
                return Node(word, tok.start, tok.start, tok.end)
            if word == "return":
                self.advance()
                if self.is_op(";") or self.is_op("}") or self.peek().kind == "eof":
                    return Node("return", tok.start, tok.start, tok.end)
                value = self.expression()
                return Node("return", tok.start, tok.start, value.end, value)
            if word == "throw":
                self.advance()
                value = self.expression()
                return Node("throw", tok.start, tok.start, value.end, value)
            n = self.type_at()
            if n and self.peek(n).kind == "id" and self.peek(n).text not in KEYWORDS:
                return self.declaration()
        expr = self.expression()
        return Node("expr", expr.pos, expr.start, expr.end, expr)

    def declaration(self) -> Node:
        dtype, start = self.decltype()
        names: list[tuple[str, Node | None, int]] = []
        end = start
        while True:
            name = self.name("a variable name")
            init = None
            end = name.end
            if self.is_op("="):
                self.advance()
                init = self.expression()
                end = init.end
            names.append((name.text, init, name.start))
            if not self.is_op(","):
                break
            self.advance()
        return Node("decl", start, start, end, dtype, names)

    def trailer(self) -> Node:
        if self.is_op("{"):
            return self.block()
        return self.statement(in_block=False)

    def block(self) -> Node:
        open_ = self.expect("{")
        statements: list[Node] = []
        while not self.is_op("}"):
            if self.peek().kind == "eof":
                raise self.unexpected(self.peek(), "'}'")
            statements.append(self.statement(in_block=True))
        close = self.expect("}")
        return Node("block", open_.start, open_.start, close.end, statements)

    def _loop_body(self) -> Node:
        if self.is_op(";"):
            tok = self.advance()
            return Node("empty", tok.start, tok.start, tok.end)
        return self.trailer()

    def if_statement(self) -> Node:
        tok = self.advance()
        self.expect("(")
        cond = self.expression()
        self.expect(")")
        then = self.trailer()
        other = None
        if self.is_word("else"):
            self.advance()
            self.statement_starts.append(self.peek().start)
            other = self.trailer()
        return Node("if", tok.start, tok.start, (other or then).end, cond, then, other)

    def while_statement(self) -> Node:
        tok = self.advance()
        self.expect("(")
        cond = self.expression()
        self.expect(")")
        body = self._loop_body()
        return Node("while", tok.start, tok.start, body.end, cond, body)

    def for_statement(self) -> Node:
        tok = self.advance()
        self.expect("(")
        # for (Type x : e) / for (x in e)
        n = self.type_at()
        if n and self.peek(n).kind == "id" and self.is_op(":", n + 1):
            dtype, _ = self.decltype()
            name = self.name("a variable name")
            self.expect(":")
            iterable = self.expression()
            self.expect(")")
            body = self.trailer()
            return Node("each", tok.start, tok.start, body.end, dtype, name.text, iterable, body)
        if self.peek().kind == "id" and self.is_word("in", 1):
            name = self.name("a variable name")
            self.advance()
            iterable = self.expression()
            self.expect(")")
            body = self.trailer()
            return Node("each", tok.start, tok.start, body.end, "def", name.text, iterable, body)
        init = None
        if not self.is_op(";"):
            if n and self.peek(n).kind == "id" and self.peek(n).text not in KEYWORDS:
                init = self.declaration()
            else:
                expr = self.expression()
                init = Node("expr", expr.pos, expr.start, expr.end, expr)
        self.expect(";")
        cond = None if self.is_op(";") else self.expression()
        self.expect(";")
        update = None if self.is_op(")") else self.expression()
        self.expect(")")
        body = self._loop_body()
        return Node("for", tok.start, tok.start, body.end, init, cond, update, body)

    def try_statement(self) -> Node:
        tok = self.advance()
        body = self.block()
        traps: list[tuple[str, str, Node]] = []
        while self.is_word("catch"):
            self.advance()
            self.expect("(")
            ctype, _ = self.decltype()
            name = self.name("a variable name")
            self.expect(")")
            traps.append((ctype, name.text, self.block()))
        if not traps:
            raise self.unexpected(self.peek(), "'catch'")
        return Node("try", tok.start, tok.start, traps[-1][2].end, body, traps)

    # -- expressions --

    def expression(self) -> Node:
        left = self.noncond(ELVIS)
        tok = self.peek()
        if tok.kind == "op" and tok.text == "?":
            self.advance()
            then = self.expression()
            self.expect(":")
            other = self.expression()
            return Node("cond", left.start, left.start, other.end, left, then, other)
        if tok.kind == "op" and tok.text in ASSIGN_OPS:
            self.advance()
            value = self.expression()
            return Node("assign", left.start, left.start, value.end, tok.text, left, value)
        return left

    def noncond(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            tok = self.peek()
            key = tok.text if tok.kind == "op" or tok.kind == "id" and tok.text == "instanceof" else None
            prec = BINARY_PRECEDENCE.get(key) if key is not None else None
            if prec is None or prec < min_prec:
                return left
            self.advance()
            if key == "instanceof":
                dtype, tstart = self.decltype()
                left = Node("instanceof", left.start, left.start, self.tokens[self.i - 1].end, left, dtype)
                left.c = tstart
                continue
            if key == "?:":
                right = self.noncond(ELVIS)  # right-associative
                left = Node("elvis", left.start, left.start, right.end, left, right)
                left.c = tok.start
                continue
            right = self.noncond(prec + 1)
            node = Node("binary", left.start, left.start, right.end, key, left, right)
            node.d = tok.start
            left = node

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op":
            if tok.text in ("++", "--"):
                self.advance()
                target = self.chain()
                return Node("incdec", tok.start, tok.start, target.end, tok.text, target, True)
            if tok.text in ("+", "-"):
                self.advance()
                operand = self.unary()
                return Node("unary", tok.start, tok.start, operand.end, tok.text, operand)
        return self.unary_not_add_sub()

    def unary_not_add_sub(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("!", "~"):
            self.advance()
            operand = self.unary()
            return Node("unary", tok.start, tok.start, operand.end, tok.text, operand)
        if tok.kind == "op" and tok.text == "(":
            cast = self._cast_type()
            if cast is not None:
                dtype, primitive = cast
                operand = self.unary() if primitive else self.unary_not_add_sub()
                return Node("cast", tok.start, tok.start, operand.end, dtype, operand)
        node = self.chain()
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text in ("++", "--"):
            self.advance()
            return Node("incdec", node.start, node.start, nxt.end, nxt.text, node, False)
        return node

    def _cast_type(self) -> tuple[str, bool] | None:
        """At `(`: the cast type and whether it is def/primitive, or None for a parenthesis."""
        n = self.type_at(1)
        if n == 0 or not self.is_op(")", 1 + n):
            return None
        first = self.peek(1).text
        primitive = (first == "def" or first in PRIMITIVE_NAMES) and n == 1
        if not primitive:
            # (Name) is a cast only when what follows can start a unarynotaddsub.
            after = self.peek(2 + n)
            if after.kind == "op":
                if after.text not in ("(", "[", "!", "~"):
                    return None
            elif after.kind == "id":
                if after.text in KEYWORDS and after.text not in ("new", "true", "false", "null", "this"):
                    return None
            elif after.kind not in ("num", "str", "regex"):
                return None
        self.advance()
        dtype = "".join(self.advance().text for _ in range(n))
        self.expect(")")
        return dtype, primitive

    def chain(self) -> Node:
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in (".", "?."):
                self.advance()
                name = self.advance()  # the lexer guarantees a `field` token here
                null_safe = tok.text == "?."
                if self.is_op("("):
                    args, call_end = self.arguments()
                    node = Node("call", tok.start, node.start, call_end, node, name.text, args, null_safe)
                else:
                    node = Node("field", tok.start, node.start, name.end, node, name.text, null_safe)
                    node.d = name.start
            elif tok.kind == "op" and tok.text == "[":
                self.advance()
                index = self.expression()
                close = self.expect("]")
                node = Node("index", tok.start, node.start, close.end, node, index)
            else:
                return node

    def arguments(self) -> tuple[list[Node], int]:
        self.expect("(")
        args: list[Node] = []
        if not self.is_op(")"):
            while True:
                args.append(self.argument())
                if not self.is_op(","):
                    break
                self.advance()
        close = self.expect(")")
        return args, close.end

    def argument(self) -> Node:
        tok = self.peek()
        # lambda: x -> ..., (x, y) -> ..., (def x, String y) -> ..., () -> ...
        if tok.kind == "id" and tok.text not in KEYWORDS and self.is_op("->", 1):
            self.advance()
            self.advance()
            return self._lambda_body(tok.start, [(None, tok.text)])
        if tok.kind == "op" and tok.text == "(":
            params = self._lambda_params()
            if params is not None:
                return self._lambda_body(tok.start, params)
        # function reference: Type::name, Type::new, this::name
        n = self.type_at()
        if n and self.is_op("::", n) or tok.kind == "id" and tok.text == "this" and self.is_op("::", 1):
            if tok.text == "this":
                self.advance()
                dtype = "this"
            else:
                dtype, _ = self.decltype()
            self.expect("::")
            target = self.peek()
            if target.kind != "id" or target.text in KEYWORDS and target.text != "new":
                raise self.unexpected(target, "a method name or new")
            self.advance()
            return Node("funcref", tok.start, tok.start, target.end, dtype, target.text)
        return self.expression()

    def _lambda_params(self) -> list[tuple[str | None, str]] | None:
        # Look ahead for `( [decltype] ID (, [decltype] ID)* ) ->` without consuming.
        ahead = 1
        params: list[tuple[str | None, str]] = []
        if self.is_op(")", ahead):
            if not self.is_op("->", ahead + 1):
                return None
            self.i += ahead + 2
            return params
        while True:
            n = self.type_at(ahead)
            if n == 0:
                return None
            after = self.peek(ahead + n)
            if after.kind == "id" and after.text not in KEYWORDS:
                ptype: str | None = "".join(self.peek(ahead + k).text for k in range(n))
                name = after.text
                ahead += n + 1
            elif n == 1:
                ptype, name = None, self.peek(ahead).text
                ahead += 1
            else:
                return None
            params.append((ptype, name))
            if self.is_op(",", ahead):
                ahead += 1
                continue
            if self.is_op(")", ahead) and self.is_op("->", ahead + 1):
                self.i += ahead + 2
                return params
            return None

    def _lambda_body(self, start: int, params: list[tuple[str | None, str]]) -> Node:
        if self.is_op("{"):
            body = self.block()
        else:
            body = self.expression()
        return Node("lambda", start, start, body.end, params, body)

    def primary(self) -> Node:
        tok = self.advance()
        kind = tok.kind
        if kind == "num":
            return Node("num", tok.start, tok.start, tok.end, tok.text)
        if kind == "str":
            return Node("str", tok.start, tok.start, tok.end, tok.value)
        if kind == "regex":
            return Node("regex", tok.start, tok.start, tok.end, tok.value[0], tok.value[1])
        if kind == "op":
            if tok.text == "(":
                inner = self.expression()
                close = self.expect(")")
                node = Node("paren", inner.pos, tok.start, close.end, inner)
                return node
            if tok.text == "[":
                return self.initializer(tok)
            raise self.unexpected(tok, "an expression")
        if kind == "id":
            word = tok.text
            if word in ("true", "false"):
                return Node("bool", tok.start, tok.start, tok.end, word == "true")
            if word == "null":
                return Node("null", tok.start, tok.start, tok.end)
            if word == "new":
                return self.new(tok)
            if word in KEYWORDS and word not in ("this",) and word != "def" and word not in PRIMITIVE_NAMES:
                raise self.unexpected(tok, "an expression")
            if self.is_op("("):
                args, end = self.arguments()
                return Node("localcall", tok.start, tok.start, end, word, args)
            return Node("var", tok.start, tok.start, tok.end, word)
        raise self.unexpected(tok, "an expression")

    def initializer(self, open_: Tok) -> Node:
        if self.is_op("]"):
            close = self.advance()
            return Node("list", open_.start, open_.start, close.end, [])
        if self.is_op(":") and self.is_op("]", 1):
            self.advance()
            close = self.advance()
            return Node("map", open_.start, open_.start, close.end, [])
        first = self.expression()
        if self.is_op(":"):
            self.advance()
            pairs = [(first, self.expression())]
            while self.is_op(","):
                self.advance()
                key = self.expression()
                self.expect(":")
                pairs.append((key, self.expression()))
            close = self.expect("]")
            return Node("map", open_.start, open_.start, close.end, pairs)
        items = [first]
        while self.is_op(","):
            self.advance()
            items.append(self.expression())
        close = self.expect("]")
        return Node("list", open_.start, open_.start, close.end, items)

    def new(self, tok: Tok) -> Node:
        n = self.type_at()
        if n == 0:
            raise self.unexpected(self.peek(), "a type after new")
        # The type without its [] pairs: `new String[2]` sizes, `new String[] {..}` initializes.
        names: list[str] = []
        first = self.peek()
        names.append(self.advance().text)
        while self.is_op(".") and self.peek(1).kind == "field":
            names.append(self.advance().text)
            names.append(self.advance().text)
        dtype = "".join(names)
        if self.is_op("["):
            dims: list[Node] = []
            while self.is_op("["):
                self.advance()
                if self.is_op("]"):
                    self.advance()
                    dims.append(None)  # type: ignore[arg-type]
                    continue
                dims.append(self.expression())
                self.expect("]")
            if dims and all(d is None for d in dims):
                self.expect("{")
                items: list[Node] = []
                if not self.is_op("}"):
                    while True:
                        items.append(self.expression())
                        if not self.is_op(","):
                            break
                        self.advance()
                close = self.expect("}")
                return Node("newarray", tok.start, tok.start, close.end, dtype + "[]" * (len(dims) - 1), [], items)
            if any(d is None for d in dims):
                raise self.error("an array needs its sizes or an initializer", first.start)
            return Node("newarray", tok.start, tok.start, self.tokens[self.i - 1].end, dtype + "[]" * (len(dims) - 1), dims, None)
        args, end = self.arguments()
        return Node("new", tok.start, tok.start, end, dtype, args)


def parse(source: str) -> tuple[list[Node], list[Node], list[int]]:
    parser = Parser(source)
    functions, statements = parser.parse()
    return functions, statements, sorted(set(parser.statement_starts))
