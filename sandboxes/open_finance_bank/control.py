"""The sandbox's control API, for processes other than the one that started it (also behind mutual TLS).

| call | effect |
|---|---|
| `GET /_sandbox/health` | `{"status": "ok", "today": ...}` |
| `GET` / `DELETE /_sandbox/requests` | the API requests received so far / forget them |
| `POST /_sandbox/faults` `{"kind", "count", "match", "seconds"}` | inject a fault (faults.py); `DELETE` clears them |
| `POST /_sandbox/consents` `{"permissions"?, "expirationDateTime"?}` | new AUTHORISED consent `{"consentId", "code"}` |
| `POST /_sandbox/consents/<id>/authorise` | the user approves it: `{"code"}` for the authorization-code grant |
| `POST /_sandbox/consents/<id>/expire` `{"after_calls": n}` | the consent expires now, or after n more data calls |
| `POST /_sandbox/consents/<id>/revoke` | the user revokes it |
| `POST /_sandbox/clock` `{"today": "YYYY-MM-DD"}` or `{"advance_days": n}` | move the bank's calendar |
| `POST /_sandbox/transactions/rename` `{"from": id, "to": id}` | serve a transaction under a new id |
"""

import json
from datetime import date, datetime

from sandboxes.open_finance_bank.render import Reply

PREFIX = "/_sandbox/"


def _reply(status: int, payload: object) -> Reply:
    return Reply(status, json.dumps(payload).encode(), "application/json")


def handle(bank, method: str, path: str, body: bytes) -> Reply:
    try:
        payload = json.loads(body) if body else {}
        return _handle(bank, method, path[len(PREFIX) :].strip("/"), payload)
    except (ValueError, KeyError, TypeError) as error:
        return _reply(400, {"error": f"{type(error).__name__}: {error}"})


def _handle(bank, method: str, route: str, payload: dict) -> Reply:
    if route == "health" and method == "GET":
        return _reply(200, {"status": "ok", "today": bank.today.isoformat()})
    if route == "requests":
        if method == "DELETE":
            bank.reset_requests()
            return _reply(200, {"cleared": True})
        return _reply(200, bank.requests)
    if route == "faults":
        if method == "DELETE":
            bank.clear_faults()
            return _reply(200, {"cleared": True})
        bank.inject(
            payload["kind"],
            int(payload.get("count", 1)),
            payload.get("match"),
            float(payload.get("seconds", 0)),
        )
        return _reply(200, {"pending": bank.state.faults.pending()})
    if route == "clock" and method == "POST":
        if "today" in payload:
            bank.set_today(date.fromisoformat(payload["today"]))
        else:
            bank.set_today(date.fromordinal(bank.today.toordinal() + int(payload.get("advance_days", 1))))
        return _reply(200, {"today": bank.today.isoformat()})
    if route == "transactions/rename" and method == "POST":
        bank.rename_transaction(payload["from"], payload["to"])
        return _reply(200, {"renamed": {payload["from"]: payload["to"]}})
    if route == "consents" and method == "POST":
        expiration = payload.get("expirationDateTime")
        when = datetime.fromisoformat(expiration.replace("Z", "+00:00")) if expiration else None
        kwargs = {"permissions": payload["permissions"]} if "permissions" in payload else {}
        consent_id, code = bank.create_authorised_consent(expiration=when, **kwargs)
        return _reply(200, {"consentId": consent_id, "code": code})
    if route.startswith("consents/") and method == "POST":
        consent_id, _, action = route[len("consents/") :].rpartition("/")
        if consent_id not in bank.state.consents:
            return _reply(404, {"error": f"no consent {consent_id}"})
        if action == "authorise":
            return _reply(200, {"code": bank.authorise(consent_id)})
        if action == "expire":
            bank.expire_consent(consent_id, int(payload.get("after_calls", 0)))
            return _reply(200, {"expiring": consent_id})
        if action == "revoke":
            bank.revoke_consent(consent_id)
            return _reply(200, {"revoked": consent_id})
    return _reply(404, {"error": f"no control call {method} {PREFIX}{route}"})
