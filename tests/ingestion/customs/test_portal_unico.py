"""The Portal Único DUIMP client (ingestion/customs/portal_unico.py) against its local stand-in
(sandboxes/customs_portal/): HTTPS on 127.0.0.1 that requires the company's client certificate, serving the demo
company's DUIMPs. Mutual TLS (no certificate, another CA's), the session headers and their expiry, 429/503 with
Retry-After, 404, and the landing through the file drop's own contract: the rows equal the file drop's.
"""

import logging
import os

import pytest

from ingestion.customs import contracts, filedrop, portal_unico
from ingestion.customs.portal_unico import DeclarationNotFound, PortalClient, PortalConfig, PortalError
from ingestion.erp.state import FileRegistry
from sandboxes.customs_portal.server import CustomsPortal
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import customs_declaration_files


@pytest.fixture(scope="module")
def company():
    return generate(seed=42, scale=1.0)


@pytest.fixture(scope="module")
def duimp_ids(company):
    ids = [
        d["declaration"]["declaration_id"]
        for d in company.declarations
        if d["declaration"]["declaration_type"] == "DUIMP"
    ]
    assert len(ids) >= 5
    return ids


@pytest.fixture
def portal(company):
    with CustomsPortal.from_company(company) as running:
        yield running


def config(portal: CustomsPortal, **overrides) -> PortalConfig:
    certs = portal.certs
    base = {
        "base_url": portal.base_url,
        "client_cert": str(certs.client_cert),
        "client_key": str(certs.client_key),
        "ca_bundle": str(certs.ca_cert),
        "timeout_s": 10.0,
    }
    return PortalConfig(**{**base, **overrides})


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_the_key_files_are_private_and_the_client_refuses_a_readable_key(portal, tmp_path):
    assert os.stat(portal.certs.client_key).st_mode & 0o777 == 0o600
    loose = tmp_path / "loose.key"
    loose.write_bytes(portal.certs.client_key.read_bytes())
    loose.chmod(0o644)
    with pytest.raises(PortalError, match="readable by others"):
        PortalClient(config(portal, client_key=str(loose)))


def test_from_env_names_what_is_missing():
    with pytest.raises(PortalError, match="PORTAL_UNICO_CLIENT_CERT, PORTAL_UNICO_CLIENT_KEY"):
        PortalConfig.from_env({"PORTAL_UNICO_URL": "https://127.0.0.1:1"})
    loaded = PortalConfig.from_env(
        {"PORTAL_UNICO_URL": "https://x/", "PORTAL_UNICO_CLIENT_CERT": "c", "PORTAL_UNICO_CLIENT_KEY": "k"}
    )
    assert (loaded.base_url, loaded.role_type, loaded.ca_bundle) == ("https://x", "IMPEXP", None)


def test_a_client_without_a_certificate_or_with_another_cas_is_turned_away(portal, duimp_ids):
    import ssl

    import httpx

    with httpx.Client(verify=ssl.create_default_context(cafile=portal.certs.ca_cert), timeout=5) as bare:
        with pytest.raises(httpx.TransportError):
            bare.post(portal.base_url + portal_unico.AUTH_PATH, headers={"Role-Type": "IMPEXP"})
    outsider = config(portal, client_cert=str(portal.certs.outsider_cert), client_key=str(portal.certs.outsider_key))
    sleeps = Sleeps()
    with PortalClient(outsider, sleep=sleeps) as client, pytest.raises(PortalError) as raised:
        client.duimp(duimp_ids[0])
    assert "POST /portal/api/autenticar" in str(raised.value) and "gave up after 4 attempts" in str(raised.value)
    assert sleeps == [1.0, 2.0, 4.0]  # bounded backoff, then the error
    # no request ever reached a handler; with TLS 1.3 the refusal of a client certificate may surface in the
    # handshake or at the connection's first read, so how many count as refused handshakes depends on timing
    assert portal.rejected_handshakes >= 1 and portal.requests() == []


def test_authenticates_once_and_sends_the_session_headers(portal, company, duimp_ids):
    files = customs_declaration_files(company)
    with PortalClient(config(portal)) as client:
        for declaration_id in duimp_ids[:3]:
            assert client.duimp(declaration_id) == files[portal_unico.file_name(declaration_id)]
        assert client.authentications == 1
    assert [r[0] for r in portal.requests()] == ["POST", "GET", "GET", "GET"]


def test_an_expired_session_is_renewed_once(portal, duimp_ids):
    with PortalClient(config(portal)) as client:
        client.duimp(duimp_ids[0])
        portal.expire_sessions()
        client.duimp(duimp_ids[1])  # 401, a new session, the same call again
        assert client.authentications == 2
    assert [r[2] for r in portal.requests()] == [200, 200, 401, 200, 200]


def test_a_session_past_its_announced_expiry_is_renewed_before_the_call(company, duimp_ids):
    with CustomsPortal.from_company(company, token_ttl_s=5) as short:  # within the client's 30 s margin
        with PortalClient(config(short)) as client:
            client.duimp(duimp_ids[0])
            client.duimp(duimp_ids[1])
            assert client.authentications == 2
        assert 401 not in [r[2] for r in short.requests()]


def test_429_and_503_are_retried_after_retry_after_then_given_up(portal, duimp_ids, caplog):
    sleeps = Sleeps()
    with caplog.at_level(logging.WARNING, logger="ingestion.common.retry"):
        with PortalClient(config(portal), sleep=sleeps) as client:
            portal.fail_next(429, "3")
            portal.fail_next(503, "2")
            assert client.duimp(duimp_ids[0])
            assert sleeps == [3.0, 2.0]
            portal.fail_next(503, "120", times=4)
            with pytest.raises(PortalError) as raised:
                client.duimp(duimp_ids[1])
    message = str(raised.value)
    assert f"DUIMP {duimp_ids[1]}" in message and "/duimp/api/ext/sefaz/duimp/" in message and "HTTP 503" in message
    assert "gave up after 4 attempts, last: HTTP 503" in message and raised.value.status == 503
    assert sleeps[2:] == [60.0, 60.0, 60.0]  # Retry-After 120 capped at max_wait_s, 4 attempts in all
    # every retry is logged at WARNING, naming the DUIMP, and counted by reason
    assert client.retries.by_reason() == {"HTTP 429": 1, "HTTP 503": 4}
    lines = [record.getMessage() for record in caplog.records if record.name == "ingestion.common.retry"]
    assert len(lines) == 5 and all(line.startswith("Portal Único: GET /duimp/api/") for line in lines)
    assert f"(DUIMP {duimp_ids[1]}): attempt 3 of 4 failed (HTTP 503); retrying in 60.0 s" in lines[-1]


def test_an_unknown_declaration_is_a_404_naming_it(portal):
    with PortalClient(config(portal)) as client, pytest.raises(DeclarationNotFound) as raised:
        client.duimp("24BR9999999999-9")
    assert raised.value.status == 404 and "DUIMP 24BR9999999999-9 not found" in str(raised.value)


def _rows(result: filedrop.FileResult) -> dict[str, list[dict]]:
    return {
        entity: [{k: v for k, v in row.items() if k != contracts.ARRIVED_AT} for row in table.to_pylist()]
        for entity, table in result.tables.items()
    }


def test_the_portal_lands_the_same_rows_as_the_file_drop_through_one_contract(portal, company, duimp_ids, tmp_path):
    files = customs_declaration_files(company)
    wanted = [*duimp_ids, "24BR9999999999-9"]
    written = []
    registry = FileRegistry(str(tmp_path / "portal_state"))
    with PortalClient(config(portal)) as client:
        results = portal_unico.land(client, wanted, registry, written.extend)
    assert [r.declaration_id for r in results] == wanted
    assert results[-1].result is None and "not found" in results[-1].error
    landed = results[:-1]
    assert all(r.result.status == filedrop.FileStatus.LOADED for r in landed)
    assert len(written) == len(duimp_ids)
    file_registry = FileRegistry(str(tmp_path / "file_state"))
    for outcome in landed:
        name = portal_unico.file_name(outcome.declaration_id)
        dropped = filedrop.DroppedFile(None, name, "", 0, outcome.result.file.modified)
        from_file = filedrop.read(dropped, files[name], file_registry)
        assert _rows(outcome.result) == _rows(from_file), name
        assert outcome.result.records == from_file.records and outcome.result.landed == outcome.result.records
    # fetched again: the same bytes are never landed twice
    with PortalClient(config(portal)) as client:
        again = portal_unico.land(client, duimp_ids[:2], registry, written.extend)
    assert [r.result.status for r in again] == [filedrop.FileStatus.SKIPPED] * 2 and len(written) == len(duimp_ids)


def test_a_bad_body_is_quarantined_with_its_reason(company, duimp_ids, tmp_path):
    numero = portal_unico.portal_number(duimp_ids[0])
    good = customs_declaration_files(company)[f"DUIMP_{numero}.json"]
    bad = good.replace(b'"ni": "', b'"ni": "0', 1)  # an invalid CNPJ in the header
    with CustomsPortal({numero: bad}) as broken, PortalClient(config(broken)) as client:
        [outcome] = portal_unico.land(client, [duimp_ids[0]], FileRegistry(str(tmp_path)))
    assert outcome.result.status == filedrop.FileStatus.QUARANTINED
    assert outcome.result.landed == 0 and len(outcome.result.quarantine) == outcome.result.records
    assert "importer_cnpj" in outcome.result.quarantine[0].reason


def test_a_portal_error_part_way_stops_with_what_landed_before_it(portal, duimp_ids, tmp_path):
    """The third DUIMP meets a lasting 503: the first two are landed, recorded and handed back with the error, so
    the asset reports them before failing (orchestration/defs/customs.py)."""
    from sandboxes.common.faults import Fault

    third = portal_unico.portal_number(duimp_ids[2])
    portal.faults.add(Fault("503", count=10, match=third, retry_after="0"))
    registry, written = FileRegistry(str(tmp_path / "state")), []
    with PortalClient(config(portal), sleep=Sleeps()) as client, pytest.raises(portal_unico.PortalStopped) as raised:
        portal_unico.land(client, duimp_ids[:4], registry, written.extend)
    assert [outcome.declaration_id for outcome in raised.value.landed] == duimp_ids[:2]
    assert raised.value.declaration_id == duimp_ids[2] and "HTTP 503" in str(raised.value)
    assert len(written) == 2 and all(registry.get(r.result.file.sha256) for r in raised.value.landed)
