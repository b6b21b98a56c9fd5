"""Simple formulas (symbols, scripts, operators) typeset as text in the math font.

Most inline formulas in the guide are a letter, a subscript or a short relation such as
\\(p(y \\mid x)\\) or \\(\\beta_2 = 0.95\\). Those are set directly as text in STIX Two Math,
with italic letters from Unicode's mathematical alphabet: the glyphs ziamath would draw, at a
fraction of the cost. Anything with structure (fractions, roots, sums, accents) returns None and
goes to ziamath.
"""

from __future__ import annotations

import re
from html import escape

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω",
}
RELATIONS = {
    "times": "×", "cdot": "⋅", "approx": "≈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "to": "→", "rightarrow": "→", "leftarrow": "←", "in": "∈",
    "sim": "∼", "propto": "∝", "pm": "±", "ll": "≪", "gg": "≫", "mid": "∣", "odot": "⊙",
    "otimes": "⊗", "oplus": "⊕", "equiv": "≡", "subset": "⊂", "cup": "∪", "cap": "∩",
}
ORDINARY = {
    "infty": "∞", "top": "⊤", "ldots": "…", "dots": "…", "cdots": "⋯", "lvert": "|",
    "rvert": "|", "vert": "|", "partial": "∂", "nabla": "∇", "ell": "ℓ", "prime": "′",
    "{": "{", "}": "}", "%": "%",
}
SPACES = {",": "\u2009", ";": "\u2005", ":": "\u2005", "!": "", " ": " ", "quad": "\u2003"}
FUNCTIONS = {"log", "exp", "ln", "min", "max", "sin", "cos", "tanh", "det", "arg", "argmax",
             "argmin", "softmax", "Pr", "lim"}
BINARY = set("+-=<>") | {"−"}
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([A-Za-z])|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)


def _italic(letter: str) -> str:
    """The mathematical italic form of a Latin letter (U+1D434...; h is U+210E)."""
    if letter == "h":
        return "\u210e"
    if "a" <= letter <= "z":
        return chr(0x1D44E + ord(letter) - ord("a"))
    return chr(0x1D434 + ord(letter) - ord("A"))


def _italic_greek(letter: str) -> str:
    """Lowercase Greek in mathematical italic, as TeX sets it; capitals stay upright."""
    special = {"ϵ": "\U0001D716", "ϕ": "\U0001D719"}
    if letter in special:
        return special[letter]
    if "α" <= letter <= "ω":
        return chr(0x1D6FC + ord(letter) - ord("α"))
    return letter


class _Unsupported(Exception):
    pass


class _Parser:
    def __init__(self, latex: str) -> None:
        self.tokens = [m for m in _TOKEN.finditer(latex) if not m.group(4)]
        self.pos = 0
        self.script_depth = 0  # operators inside sub- and superscripts take no spaces

    def peek(self) -> re.Match[str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> re.Match[str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def group_text(self) -> str:
        """The raw letters of a {...} argument such as \\mathrm{BP}."""
        if self.take().group(5) != "{":
            raise _Unsupported
        parts = []
        while (token := self.peek()) is not None and token.group(5) != "}":
            parts.append(self.take().group(0))
        if token is None:
            raise _Unsupported
        self.take()
        text = "".join(parts)
        if not re.fullmatch(r"[A-Za-z0-9 .,\-']*", text):
            raise _Unsupported
        return text

    def sequence(self, closing: str | None = None) -> str:
        out: list[str] = []
        while (token := self.peek()) is not None:
            if closing is not None and token.group(5) == closing:
                return "".join(out)
            if token.group(5) in ("_", "^"):
                if not out:
                    raise _Unsupported
                self.take()
                self.script_depth += 1
                script = self.atom()
                self.script_depth -= 1
                tag = "sub" if token.group(5) == "_" else "sup"
                out[-1] += f"<{tag}>{script}</{tag}>"
                continue
            out.append(self.atom())
            following = self.peek()
            if out[-1].startswith('<span class="fn">') and following is not None and (
                following.group(1) or following.group(2) or following.group(3)
            ):
                out[-1] += "\u2009"
        if closing is not None:
            raise _Unsupported
        return "".join(out)

    def atom(self) -> str:
        token = self.take()
        command, letter, number, _, other = token.groups()
        if letter:
            return _italic(letter)
        if number:
            return number
        if other == "{":
            inner = self.sequence("}")
            self.take()
            return inner
        if other is not None:
            if other in "}_^&$#~":
                raise _Unsupported
            pad = "" if self.script_depth else " "
            if other == "-":
                return f"{pad}−{pad}"
            if other in BINARY:
                return f"{pad}{escape(other)}{pad}"
            if other == ",":
                return ",\u2009"
            return escape(other)
        assert command is not None
        if command in GREEK:
            return _italic_greek(GREEK[command])
        if command in RELATIONS:
            pad = "" if self.script_depth else " "
            return f"{pad}{RELATIONS[command]}{pad}"
        if command in ORDINARY:
            return ORDINARY[command]
        if command in SPACES:
            return SPACES[command]
        if command in FUNCTIONS:
            return f'<span class="fn">{command}</span>'
        if command in ("mathrm", "text", "operatorname", "textrm"):
            return f'<span class="fn">{escape(self.group_text())}</span>'
        if command == "mathbb":
            text = self.group_text()
            double = {"R": "ℝ", "E": "𝔼", "N": "ℕ", "Z": "ℤ", "P": "ℙ", "Q": "ℚ", "C": "ℂ"}
            if text not in double:
                raise _Unsupported
            return double[text]
        raise _Unsupported


def text_formula(latex: str) -> str | None:
    """The formula as HTML text, or None when it needs real typesetting."""
    try:
        body = _Parser(latex).sequence()
    except (_Unsupported, IndexError):
        return None
    body = re.sub(r"  +", " ", body).strip()
    return f'<span class="m">{body}</span>'
