"""The `acme.asana-offboard` card: binds `asana.py` to the lanyard card contract.

componentize-py generates the `wit_world` package from `wit/card.wit` at build
time (see build.sh); `WitWorld` is the class it looks for. Only this file knows
about the generated types; the logic lives in `asana.py`.
"""

import asana
import wit_world
from componentize_py_types import Err
from wit_world.imports import http, log
from wit_world.imports.types import (
    CallContext,
    CardError,
    CardInfo,
    ErrorKind,
    Grant_Connection,
)

_METHODS = {
    "GET": http.Method.GET,
    "POST": http.Method.POST,
    "PUT": http.Method.PUT,
    "PATCH": http.Method.PATCH,
    "DELETE": http.Method.DELETE,
}

_LEVELS = {
    "debug": log.Level.DEBUG,
    "info": log.Level.INFO,
    "warn": log.Level.WARN,
    "error": log.Level.ERROR,
}

_KINDS = {
    "invalid-input": ErrorKind.INVALID_INPUT,
    "not-found": ErrorKind.NOT_FOUND,
    "denied": ErrorKind.DENIED,
    "conflict": ErrorKind.CONFLICT,
    "rate-limited": ErrorKind.RATE_LIMITED,
    "unavailable": ErrorKind.UNAVAILABLE,
    "timeout": ErrorKind.TIMEOUT,
    "internal": ErrorKind.INTERNAL,
}


class _HostError(Exception):
    """A card-error the host returned from an import; passed on unchanged."""

    def __init__(self, error):
        super().__init__(error.message)
        self.error = error


def _send(method, url, headers, body, connection, timeout_ms):
    request = http.Request(
        method=_METHODS[method],
        url=url,
        headers=headers,
        body=body,
        connection=connection,
        timeout_ms=timeout_ms,
    )
    try:
        response = http.send(request)
    except Err as e:
        raise _HostError(e.value) from None
    return response.status, response.headers, bytes(response.body)


def _log(level, message, fields):
    log.write(_LEVELS[level], message, asana.dumps(fields) if fields is not None else None)


class WitWorld(wit_world.WitWorld):
    def describe(self) -> CardInfo:
        return CardInfo(
            name=asana.NAME,
            version=asana.VERSION,
            description=asana.DESCRIPTION,
            input_schema=asana.dumps(asana.INPUT_SCHEMA),
            output_schema=asana.dumps(asana.OUTPUT_SCHEMA),
            # `*`: whichever connection the flow names; ops still list which ones.
            grants=[Grant_Connection("*")],
        )

    def run(self, ctx: CallContext, input: str) -> str:
        call = asana.Call(_send, _log, ctx.dry_run)
        try:
            return asana.run(call, input)
        except _HostError as e:
            raise Err(e.error) from None
        except asana.CardFailure as f:
            raise Err(CardError(
                kind=_KINDS[f.kind],
                message=f.message,
                retryable=f.retryable,
                retry_after_ms=f.retry_after_ms,
            )) from None
