"""The directory: search, theme filter, keyset pagination, and no N+1 queries."""

from __future__ import annotations

import random
import re
from urllib.parse import urlencode

import pytest

from hub.extensions import db
from tests.integration.orgs_support import english  # noqa: F401

CARD = re.compile(r'<h3><a href="/@([^"]+)">')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def handles_on(page: str) -> list[str]:
    return CARD.findall(page)


@pytest.fixture
def owner(make_account):
    return make_account("owner")


def test_search_by_name_is_case_insensitive_and_literal(client, make_org, owner):
    make_org(owner=owner, handle="paysan", name="Atelier Paysan")
    make_org(owner=owner, handle="liens", name="Terre de Liens")
    make_org(owner=owner, handle="solidaire", name="L'atelier solidaire")

    make_org(owner=owner, handle="slash", name="Pile\\Face")

    found = handles_on(client.get("/orgs?q=ATELIER").get_data(as_text=True))
    wildcard = handles_on(client.get("/orgs?q=%25").get_data(as_text=True))
    underscore = handles_on(client.get("/orgs?q=_").get_data(as_text=True))
    backslash = handles_on(client.get("/orgs?q=e%5Cf").get_data(as_text=True))

    assert found == ["paysan", "solidaire"]
    assert wildcard == [] and underscore == []
    assert backslash == ["slash"]


def test_theme_filter_and_the_list_of_themes_in_use(client, make_org, owner):
    make_org(owner=owner, handle="paysan", name="Atelier Paysan", themes="Agriculture, outils")
    make_org(owner=owner, handle="liens", name="Terre de Liens", themes="agriculture, foncier")
    make_org(owner=owner, handle="ritimo", name="Ritimo", themes="Information")

    page = client.get("/orgs?theme=agriculture").get_data(as_text=True)

    assert handles_on(page) == ["paysan", "liens"]
    for slug in ("agriculture", "foncier", "information", "outils"):
        assert f'href="/orgs?theme={slug}"' in page
    assert handles_on(client.get("/orgs?theme=unknown").get_data(as_text=True)) == []


def test_keyset_pagination_walks_every_organisation_once_in_name_order(client, make_org,
                                                                       owner):
    # 45 names in a shuffled creation order, with four namesakes straddling the page break.
    names = [f"Org {i:02d}" if i % 2 else f"org {i:02d}" for i in range(28)]
    names += ["org 28"] * 4 + [f"Org {i:02d}" for i in range(32, 45)]
    random.Random(4).shuffle(names)
    orgs = [make_org(owner=owner, handle=f"o{n}", name=name) for n, name in enumerate(names)]
    expected = [o.handle for o in sorted(orgs, key=lambda o: (o.name.lower(), o.id))]

    seen, sizes, links, url = [], [], [], "/orgs"
    while url:
        page = client.get(url).get_data(as_text=True)
        sizes.append(len(handles_on(page)))
        seen += handles_on(page)
        match = NEXT.search(page)
        url = match.group(1).replace("&amp;", "&") if match else None
        links.append(url)

    assert sizes == [30, 15]
    assert seen == expected
    # The next page starts after the last (name, id) shown: a cursor, not a page number.
    last = next(o for o in orgs if o.handle == expected[29])
    assert links == ["/orgs?" + urlencode({"after": f"{last.name.lower()}|{last.id}"}), None]


def test_pagination_keeps_the_search(client, make_org, owner):
    for i in range(35):
        make_org(owner=owner, handle=f"a{i}", name=f"Atelier {i:02d}")
    make_org(owner=owner, handle="other", name="Zèbre")

    first = client.get("/orgs?q=atelier").get_data(as_text=True)
    following = NEXT.search(first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)

    assert "q=atelier" in following
    assert handles_on(second) == [f"a{i}" for i in range(30, 35)]


def directory_queries(client, count_queries) -> int:
    client.get("/orgs")  # warm-up: instance settings, compiled statements
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get("/orgs")
    assert response.status_code == 200
    return counter.count


def test_directory_queries_do_not_grow_with_the_number_of_organisations(
        client, make_org, owner, count_queries):
    for i in range(3):
        make_org(owner=owner, handle=f"few{i}", name=f"Few {i}", themes=f"t{i}, common",
                 summary="résumé")
    few = directory_queries(client, count_queries)
    for i in range(27):
        make_org(owner=owner, handle=f"many{i}", name=f"Many {i}", themes=f"u{i}, common",
                 summary="résumé")

    many = directory_queries(client, count_queries)

    assert len(handles_on(client.get("/orgs").get_data(as_text=True))) == 30
    assert few == many
