"""Secrets out of everything the platform prints, logs, puts in metadata or in an error: the one place that masks
DSNs, URLs and known secrets. Pure Python, no Dagster.

- `redact_url(url)`: one DSN or URL, the whole string (PostgreSQL `postgresql://`, `amqp://`, `http(s)://`,
  `s3://`, libpq `key=value`): the password in the userinfo becomes `***` (`user:***@host`; a userinfo without
  `:`, often a token, becomes `***@host`), as do `password=` in a libpq DSN and secret-looking query parameters
  (`password`, `client_secret`, `access_token`, `X-Amz-Signature`, `api_key`, `sslkey`...; not `partition_key`).
  Scheme, user, host, port, database, path and the other parameters stay, in the form they were given.
- `redact_text(text, secrets=())`: free text (an error, a log line): every URL in it as above, libpq
  `password=...` (quoted or not), a `word@host` a driver printed (libpq names the host `8899@127.0.0.1` when a
  URL password holds a raw `@`), and each known secret in every form it may take in a message (raw,
  percent-encoded, `+` for spaces, JSON or repr escaped, libpq-quoted).
- `url_origin(url)`: `scheme://host:port/…` only, for a URL whose path itself is a secret (a webhook).
- `secrets_of(dsn)`: the secrets a DSN or URL carries, to pass to `redact_text` for a driver's error.
- `url_userinfo_problem(url)`: what to percent-encode in a URL whose password holds a raw `@` or `/` (libpq would
  send part of it to the resolver as a host name): the ERP's PostgreSQL refuses such a DSN before connecting.

A password is never assumed to be percent-encoded. In a URL the userinfo ends at the LAST `@` that is followed by
something shaped like a host (`name`, `[v6]`, then `:port`, `/`, `?`, `#`, `,` or the end): a password with a raw
`@`, `:`, `/`, `%`, space or quote is still masked whole and the host, port and database stay readable. The
price: an `@` in a URL's path or query (rare in DSNs) masks everything before it, erring towards hiding.
In a query string a secret value ends at `&`, `#` or the end, so a raw `&` or `#` in it must be percent-encoded
(as any URL parser needs). In free text a URL ends at whitespace: pass the secret itself (`secrets=`) where a
URL with a raw space may appear; a known secret shorter than 4 characters is not searched for as plain text.
An e-mail address in an error shows as `***@domain`. Used by: the ERP's PostgreSQL and RabbitMQ, the S3 lake, the
ClickHouse server, Airbyte, MLflow's tracking URI, run-failure alerts, `importau metrics`, the soak and the ERP
benchmark.
"""

import json
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, unquote

MASK = "***"
# A secret shorter than this is not searched for as plain text (it would blank ordinary words); the
# structural rules above still mask it wherever it sits in a URL or a DSN.
MIN_SECRET_LENGTH = 4

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# What follows the userinfo's `@`: a host (name, IPv4 or [IPv6], possibly empty for a Unix socket), an optional
# port, then the end of the authority.
_AFTER_AT = re.compile(r"(?:\[[0-9A-Fa-f:.%a-z]*\]|[A-Za-z0-9._~%!$&'()*+;=-]*)(?::[0-9]*)?(?:[/?#,]|$)")
# A parameter whose value is a secret: `password`, `client_secret`, `access_token`, `X-Amz-Signature`, `api_key`,
# `sslkey`... but not `partition_key` or `run_key`.
_SECRET_NAME = (
    r"(?:[A-Za-z0-9_.-]*?(?:passw(?:or)?d|pwd|secret|token|signature|sig|credential|auth)"
    r"|(?:[A-Za-z0-9_.-]*?(?:api|access|private|ssl|client|subscription|account|master|sas)[_.-]?)?key)"
)
_QUERY_SECRET = re.compile(rf"(?<![^?&;])({_SECRET_NAME})=([^&#]*)", re.IGNORECASE)
_TEXT_QUERY_SECRET = re.compile(rf"(?<![^?&;\s])({_SECRET_NAME})=([^&#\s\"'<>]*)", re.IGNORECASE)
# libpq key=value: `password=value` or `password='quoted \' value'` (libpq: a backslash escapes the next character;
# an unquoted value runs to whitespace). Only at the start or after whitespace, quote or `(`: in a URL's query
# `password=` follows `?` or `&` and is the query rule's (its value ends at `&`).
_LIBPQ_SECRET = re.compile(
    r"(?<![^\s\"'(])((?:ssl)?password)(\s*=\s*)('(?:[^'\\]|\\.)*'?|(?:[^\s'\\]|\\.)(?:[^\s\\]|\\.)*)",
    re.IGNORECASE | re.DOTALL,
)
_LIBPQ_PAIR = re.compile(
    r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=\s*(?:'(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)(?:[^\s\\]|\\.)*|)", re.DOTALL
)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]*")
# `word@host` left in free text (a driver that split a URL at the first `@` names `rest-of-password@host`).
_USER_AT_HOST = re.compile(r"(?<![A-Za-z0-9+.*:-])[^\s\"'<>()=,;:@/]+@(?=[A-Za-z0-9\[])")


def _mask_query(query: str, pattern: re.Pattern = _QUERY_SECRET) -> str:
    return pattern.sub(lambda m: f"{m[1]}={MASK}", query)


def _userinfo_end(rest: str) -> int:
    """Index of the `@` that ends the userinfo in `rest` (the URL after `://`), or -1 when there is none."""
    for index in range(len(rest) - 1, -1, -1):
        if rest[index] == "@" and _AFTER_AT.match(rest, index + 1):
            return index
    return -1


def _masked_userinfo(userinfo: str) -> str:
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}" if colon else MASK


def _redact_url_token(url: str, query: re.Pattern) -> str:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return url
    head, rest = scheme.group(0), url[scheme.end() :]
    at = _userinfo_end(rest)
    if at >= 0:
        rest = f"{_masked_userinfo(rest[:at])}@{rest[at + 1 :]}"
    return head + _mask_query(rest, query)


def _is_libpq(dsn: str) -> bool:
    """A libpq key=value string: nothing but `key=value` pairs."""
    position = 0
    while position < len(dsn):
        match = _LIBPQ_PAIR.match(dsn, position)
        if match is None or match.end() == position:
            return not dsn[position:].strip()
        position = match.end()
    return "=" in dsn


def redact_url(url: str) -> str:
    """One DSN or URL (the whole string) with its password and secret parameters masked; see the module doc."""
    text = url.lstrip()  # not rstrip: a libpq value may end in an escaped space
    if _SCHEME.match(text):
        return _redact_url_token(text, _QUERY_SECRET)
    if _is_libpq(text):
        return _LIBPQ_SECRET.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    return redact_text(text)


def secret_forms(secret: str) -> set[str]:
    """The ways a secret may be spelt in a message: raw, URL-decoded, percent-encoded, form-encoded, escaped."""
    forms = {secret, unquote(secret)}
    for value in list(forms):
        forms |= {
            quote(value, safe=""),
            quote(value),
            quote_plus(value),
            json.dumps(value)[1:-1],
            repr(value)[1:-1],
            value.replace("\\", "\\\\").replace("'", "\\'"),
        }
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def secrets_of(dsn: str) -> list[str]:
    """The password(s) a DSN or URL carries (userinfo password, libpq `password=`, secret query values)."""
    text = dsn.lstrip()
    found: list[str] = []
    scheme = _SCHEME.match(text)
    if scheme:
        rest = text[scheme.end() :]
        at = _userinfo_end(rest)
        if at >= 0:
            user, colon, password = rest[:at].partition(":")
            found.append(password if colon else user)
        query = rest[at + 1 :].partition("?")[2]
        found += [value for name, value in parse_qsl(query) if re.fullmatch(_SECRET_NAME, name, re.IGNORECASE)]
    else:
        for match in _LIBPQ_SECRET.finditer(text):
            value = match[3]
            if value.startswith("'"):
                value = value[1:-1] if value.endswith("'") and len(value) > 1 else value[1:]
            found.append(re.sub(r"\\(.)", r"\1", value, flags=re.DOTALL))
    return [secret for secret in found if secret]


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text with known secrets (in all their forms) and any URL credentials, libpq passwords and secret
    query values masked; see the module doc."""
    forms = set()
    for secret in secrets:
        if secret:
            forms |= secret_forms(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    text = _LIBPQ_SECRET.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    out, position = [], 0
    for url in _URL_IN_TEXT.finditer(text):
        out += [_redact_plain(text[position : url.start()]), _redact_url_token(url.group(0), _TEXT_QUERY_SECRET)]
        position = url.end()
    out.append(_redact_plain(text[position:]))
    return "".join(out)


def _redact_plain(text: str) -> str:
    """Text that holds no URL: `word@host`, `token=`-like values."""
    text = _USER_AT_HOST.sub(f"{MASK}@", text)
    return _TEXT_QUERY_SECRET.sub(lambda m: f"{m[1]}={MASK}", text)


def url_userinfo_problem(url: str) -> str | None:
    """For a URL whose user or password holds a raw `@` or `/` or a `%` not followed by two hex digits, what to
    percent-encode; None otherwise (or not a URL). libpq ends the userinfo at the first `@` or `/`, so such a
    password would go, in part, to the resolver as a host or a port, and into libpq's error text."""
    text = url.strip()
    scheme = _SCHEME.match(text)
    if scheme is None:
        return None
    rest = text[scheme.end() :]
    at = _userinfo_end(rest)
    bad = sorted(set(re.findall(r"[@/]|%(?![0-9A-Fa-f]{2})", rest[:at]))) if at >= 0 else []
    if not bad:
        return None
    spelled = ", ".join(f"{char!r} as {quote(char, safe='')}" for char in bad)
    return f"the URL's user or password holds characters that must be percent-encoded ({spelled})"


def url_origin(url: str) -> str:
    """`https://hooks.example.com:8443/…`: scheme, host and port only, never credentials, path or query."""
    text = url.strip()
    scheme = _SCHEME.match(text)
    if scheme is None:
        return "?://?/…"
    rest = text[scheme.end() :]
    rest = rest[_userinfo_end(rest) + 1 :]
    authority = re.match(r"(\[[^\]]*\]|[^:/?#]*)(:[0-9]+)?", rest)
    host = authority[1] or "?"
    return f"{scheme.group(0)}{host}{authority[2] or ''}/…"
