"""The web app's router: a router passes over a path none of its routes has, and only then."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from admit.entrypoints.web.routing import Router, include


def app_of_two() -> tuple[FastAPI, Router, Router]:
    first, second = Router(prefix="/api/v1"), Router()

    @first.get("/workspaces/{workspace_id}/members")
    def members(workspace_id: str) -> dict[str, str]:
        return {"members of": workspace_id}

    @first.post("/workspaces")
    def create() -> dict[str, str]:
        return {"created": "yes"}

    @second.get("/i/{token:path}")
    def invitation(token: str) -> dict[str, str]:
        return {"token": token}

    app = FastAPI()
    include(app, first)
    include(app, second)
    return app, first, second


def test_a_router_declines_only_paths_none_of_its_routes_has() -> None:
    _, first, second = app_of_two()
    assert first._could_match("/api/v1/workspaces/w1/members")
    assert first._could_match("/api/v1/workspaces")
    assert not first._could_match("/api/v1/workspaces/w1/members/extra")
    assert not first._could_match("/i/abc")
    assert second._could_match("/i/abc/def")
    assert not second._could_match("/api/v1/workspaces")


def test_the_app_answers_as_before_matches_wrong_methods_and_unknown_paths() -> None:
    app, _, _ = app_of_two()
    client = TestClient(app)
    assert client.get("/api/v1/workspaces/w1/members").json() == {"members of": "w1"}
    assert client.get("/i/a/b").json() == {"token": "a/b"}
    assert client.post("/api/v1/workspaces").json() == {"created": "yes"}
    assert client.get("/api/v1/workspaces").status_code == 405  # a known path, another method
    assert client.get("/nowhere").status_code == 404


def test_routes_added_after_the_first_request_are_matched() -> None:
    app, first, _ = app_of_two()
    client = TestClient(app)
    assert client.get("/api/v1/late").status_code == 404

    @first.get("/late")
    def late() -> dict[str, str]:
        return {"late": "yes"}

    assert first._could_match("/api/v1/late")


def test_a_plain_router_cannot_be_included() -> None:
    from fastapi import APIRouter

    with pytest.raises(TypeError):
        include(FastAPI(), APIRouter())  # type: ignore[arg-type]
