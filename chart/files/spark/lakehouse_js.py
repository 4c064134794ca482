"""What JavaScript does differently from Python where both engines must agree on text: the
whitespace String.prototype.trim removes and the text String(number) gives."""

import math
from decimal import Decimal

# WhiteSpace and LineTerminator of ECMAScript (trim); Python's str.strip() differs (it keeps
# U+FEFF and removes U+001C..U+001F and U+0085).
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def js_number_text(value: float) -> str:
    """String(value) in JavaScript (Number::toString): the shortest digits that round-trip, as
    Python's repr finds them, laid out by ECMAScript's rules (1e21 and 1e-7 in exponent form)."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    written = "".join(map(str, digit_tuple))
    digits = written.rstrip("0")
    exponent += len(written) - len(digits)
    k = len(digits)
    n = exponent + k  # value = 0.digits × 10^n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + body
