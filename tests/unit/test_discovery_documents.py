"""WebFinger resources and JRDs, host-meta and NodeInfo documents, built from small values.

The NodeInfo schemas below keep what the published ones (nodeinfo.diaspora.software,
jhass/nodeinfo schemas/2.0 and 2.1) constrain — required keys, closed objects, the name
pattern, the protocol and service enums, non-negative integer counts — so a document that
passes here passes there; nothing is fetched.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import jsonschema
import pytest

from hub.federation.discovery import (
    REL_AVATAR,
    REL_PROFILE_PAGE,
    REL_SUBSCRIBE,
    XRD_NS,
    Avatar,
    HandleResource,
    InstanceResource,
    NodeFacts,
    ResourceError,
    Usage,
    WebfingerSubject,
    acct_uri,
    host_meta_json,
    host_meta_xml,
    host_of,
    instance_username,
    nodeinfo_content_type,
    nodeinfo_document,
    nodeinfo_links,
    parse_resource,
    webfinger_document,
)

BASE = "https://hub.example.org"

_PROTOCOLS = ["activitypub", "buddycloud", "dfrn", "diaspora", "libertree", "ostatus",
              "pumpio", "tent", "xmpp", "zot"]
_INBOUND = ["atom1.0", "gnusocial", "imap", "pnut", "pop3", "pumpio", "rss2.0", "twitter"]
_OUTBOUND = ["acropolis", "atom1.0", "blogger", "buddycloud", "diaspora", "dreamwidth",
             "drupal", "facebook", "friendica", "gnusocial", "google", "insanejournal",
             "libertree", "linkedin", "livejournal", "mediagoblin", "myspace", "pinterest",
             "pnut", "posterous", "pumpio", "redmatrix", "rss2.0", "smtp", "tent", "tumblr",
             "twitter", "wordpress", "xmpp"]
_COUNT = {"type": "integer", "minimum": 0}


def nodeinfo_schema(version: str) -> dict:
    software = {"name": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                "version": {"type": "string"}}
    if version == "2.1":
        software |= {"repository": {"type": "string"}, "homepage": {"type": "string"}}
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "software", "protocols", "services", "openRegistrations",
                     "usage", "metadata"],
        "properties": {
            "version": {"enum": [version]},
            "software": {"type": "object", "additionalProperties": False,
                         "required": ["name", "version"], "properties": software},
            "protocols": {"type": "array", "minItems": 1, "items": {"enum": _PROTOCOLS}},
            "services": {
                "type": "object", "additionalProperties": False,
                "required": ["inbound", "outbound"],
                "properties": {"inbound": {"type": "array", "items": {"enum": _INBOUND}},
                               "outbound": {"type": "array", "items": {"enum": _OUTBOUND}}},
            },
            "openRegistrations": {"type": "boolean"},
            "usage": {
                "type": "object", "additionalProperties": False, "required": ["users"],
                "properties": {
                    "users": {"type": "object", "additionalProperties": False,
                              "properties": {"total": _COUNT, "activeHalfyear": _COUNT,
                                             "activeMonth": _COUNT}},
                    "localPosts": _COUNT,
                    "localComments": _COUNT,
                },
            },
            "metadata": {"type": "object"},
        },
    }


def validate_nodeinfo(document: dict, version: str) -> None:
    jsonschema.Draft4Validator(nodeinfo_schema(version)).validate(document)


def facts(mode: str = "open") -> NodeFacts:
    return NodeFacts(name="Coredem", description="Le réseau des centres de ressources",
                     registration_mode=mode, default_locale="fr", organisations=31,
                     usage=Usage(users_total=120, active_month=40, active_halfyear=80,
                                 local_posts=900, local_comments=300))


# -- hosts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("base", "host", "username"), [
    ("https://hub.example.org", "hub.example.org", "hub.example.org"),
    ("https://Hub.Example.org/", "hub.example.org", "hub.example.org"),
    ("https://hub.example.org:443", "hub.example.org", "hub.example.org"),
    ("http://localhost:8000", "localhost:8000", "localhost"),
    ("https://example.org/maillage", "example.org", "example.org"),
])
def test_the_acct_host_is_the_base_authority_without_its_default_port(base, host, username):
    assert host_of(base) == host
    assert instance_username(base) == username
    assert acct_uri("alice", base) == f"acct:alice@{host}"


# -- resources ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", [
    "acct:alice@hub.example.org",
    "ACCT:alice@HUB.example.ORG",
    "acct:@alice@hub.example.org",
    "alice@hub.example.org",
    "@alice@hub.example.org",
    "acct:alice@hub.example.org:443",
    "acct:%61lice@hub.example.org",
    "https://hub.example.org/@alice",
    "HTTPS://HUB.EXAMPLE.ORG/@alice",
    "https://hub.example.org/@alice/",
    "https://hub.example.org/@alice#main-key",
])
def test_handle_resources_name_the_handle(resource):
    assert parse_resource(resource, BASE) == HandleResource("alice")


def test_the_handle_keeps_the_case_it_was_asked_in():
    # The shell looks it up case-insensitively, as profile URLs are.
    assert parse_resource("acct:ALICE@hub.example.org", BASE) == HandleResource("ALICE")


@pytest.mark.parametrize("resource", [
    "acct:hub.example.org@hub.example.org",
    "acct:HUB.example.org@hub.example.org",
    "https://hub.example.org/actor",
])
def test_the_instance_actor_resources(resource):
    assert parse_resource(resource, BASE) == InstanceResource()


def test_with_a_port_the_instance_answers_to_its_host_name_and_to_its_authority():
    base = "http://localhost:8000"
    assert parse_resource("acct:localhost@localhost:8000", base) == InstanceResource()
    assert parse_resource("acct:localhost:8000@localhost:8000", base) == InstanceResource()
    assert parse_resource("acct:alice@localhost:8000", base) == HandleResource("alice")
    assert parse_resource("http://localhost:8000/@alice", base) == HandleResource("alice")


@pytest.mark.parametrize("resource", [
    "acct:alice@other.example",
    "acct:alice@hub.example.org.evil.example",
    "acct:alice@hub.example.org:8443",  # another instance on the same host
    "acct:alice@hub.example.org:port",
    "https://other.example/@alice",
    "https://hub.example.org:8443/@alice",
    "http://hub.example.org/@alice",  # not our scheme: not our actor id
    "https://hub.example.org/@alice?x=1",
    "https://hub.example.org/@alice/outbox",
    "https://hub.example.org/",
    "https://hub.example.org/alice",
    "https://hub.example.org/actor/outbox",
    "mailto:alice@hub.example.org",
    "did:web:hub.example.org",
])
def test_resources_that_are_not_ours(resource):
    assert parse_resource(resource, BASE) is None


def test_profile_urls_under_a_base_path():
    base = "https://example.org/maillage"
    assert parse_resource("https://example.org/maillage/@alice", base) == HandleResource("alice")
    assert parse_resource("https://example.org/maillage/actor", base) == InstanceResource()
    assert parse_resource("https://example.org/@alice", base) is None


@pytest.mark.parametrize("resource", [
    None, "", "   ", "alice", "acct:", "acct:alice", "acct:alice@", "acct:@hub.example.org",
    "acct:alice@@hub.example.org", "acct:a@b@hub.example.org", "acct:alice@host/path",
    "acct:ali ce@hub.example.org", "alice\n@hub.example.org", "https://", "https:///@alice",
    "https://[::1/@alice", "x" * 1001 + "@hub.example.org",
])
def test_malformed_resources_are_refused(resource):
    with pytest.raises(ResourceError):
        parse_resource(resource, BASE)


# -- JRD ------------------------------------------------------------------------------------

ALICE = WebfingerSubject(
    subject="acct:alice@hub.example.org", actor_id=f"{BASE}/@alice",
    profile_url=f"{BASE}/@alice",
    avatar=Avatar(url=f"{BASE}/media/avatar/a.webp", media_type="image/webp"),
    subscribe_template=f"{BASE}/authorize_interaction?uri={{uri}}")


def test_a_jrd_names_the_actor_its_page_its_avatar_and_the_subscribe_template():
    assert webfinger_document(ALICE) == {
        "subject": "acct:alice@hub.example.org",
        "aliases": [f"{BASE}/@alice"],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": f"{BASE}/@alice"},
            {"rel": REL_PROFILE_PAGE, "type": "text/html", "href": f"{BASE}/@alice"},
            {"rel": REL_AVATAR, "type": "image/webp", "href": f"{BASE}/media/avatar/a.webp"},
            {"rel": REL_SUBSCRIBE,
             "template": f"{BASE}/authorize_interaction?uri={{uri}}"},
        ],
    }


def test_a_jrd_without_avatar_or_subscribe_page_has_no_such_links():
    bare = WebfingerSubject(subject="acct:bob@hub.example.org", actor_id=f"{BASE}/@bob",
                            profile_url=f"{BASE}/@bob")
    assert [link["rel"] for link in webfinger_document(bare)["links"]] == [
        "self", REL_PROFILE_PAGE]


def test_rel_parameters_keep_only_those_links_and_the_rest_whole():
    document = webfinger_document(ALICE, ["self", REL_AVATAR, "http://unknown.example/rel"])
    assert [link["rel"] for link in document["links"]] == ["self", REL_AVATAR]
    assert document["subject"] == ALICE.subject
    assert document["aliases"] == [ALICE.actor_id]
    assert webfinger_document(ALICE, ["http://unknown.example/rel"])["links"] == []


# -- host-meta ------------------------------------------------------------------------------


def test_host_meta_xrd_points_lrdd_at_webfinger():
    root = ET.fromstring(host_meta_xml(f"{BASE}/.well-known/webfinger"))
    assert root.tag == f"{{{XRD_NS}}}XRD"
    links = root.findall(f"{{{XRD_NS}}}Link")
    assert [(link.get("rel"), link.get("template")) for link in links] == [
        ("lrdd", f"{BASE}/.well-known/webfinger?resource={{uri}}")]


def test_host_meta_xrd_escapes_the_url():
    root = ET.fromstring(host_meta_xml('https://a.example/x?"<&>'))
    assert root[0].get("template") == 'https://a.example/x?"<&>?resource={uri}'


def test_host_meta_json_is_the_same_link():
    assert host_meta_json(f"{BASE}/.well-known/webfinger") == {"links": [
        {"rel": "lrdd", "template": f"{BASE}/.well-known/webfinger?resource={{uri}}"}]}


# -- NodeInfo -------------------------------------------------------------------------------


def test_the_nodeinfo_index_lists_the_newest_schema_first():
    assert nodeinfo_links({"2.0": "https://h/nodeinfo/2.0", "2.1": "https://h/nodeinfo/2.1"}) \
        == {"links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
             "href": "https://h/nodeinfo/2.1"},
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
             "href": "https://h/nodeinfo/2.0"}]}


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_nodeinfo_documents_follow_their_schema(version):
    document = nodeinfo_document(version, facts(), "0.1.0")
    validate_nodeinfo(document, version)
    assert document["version"] == version
    assert document["software"]["name"] == "maillage"
    assert document["software"]["version"] == "0.1.0"
    assert document["protocols"] == ["activitypub"]
    assert document["services"] == {"inbound": ["atom1.0", "rss2.0"],
                                    "outbound": ["atom1.0", "rss2.0"]}
    assert document["usage"] == {
        "users": {"total": 120, "activeMonth": 40, "activeHalfyear": 80},
        "localPosts": 900, "localComments": 300}
    assert document["metadata"] == {
        "nodeName": "Coredem", "nodeDescription": "Le réseau des centres de ressources",
        "organisations": 31, "defaultLanguage": "fr", "registrationMode": "open"}


def test_the_2_0_document_has_no_2_1_software_keys(monkeypatch):
    from hub.federation import discovery

    monkeypatch.setattr(discovery, "SOFTWARE_REPOSITORY", "https://code.example/maillage")
    monkeypatch.setattr(discovery, "SOFTWARE_HOMEPAGE", "https://maillage.example")
    newer = nodeinfo_document("2.1", facts(), "0.1.0")
    older = nodeinfo_document("2.0", facts(), "0.1.0")
    assert newer["software"]["repository"] == "https://code.example/maillage"
    assert newer["software"]["homepage"] == "https://maillage.example"
    assert set(older["software"]) == {"name", "version"}
    validate_nodeinfo(newer, "2.1")
    validate_nodeinfo(older, "2.0")


@pytest.mark.parametrize(("mode", "is_open"), [
    ("open", True), ("approval", False), ("invitation", False), ("closed", False)])
def test_only_open_registration_is_open(mode, is_open):
    document = nodeinfo_document("2.1", facts(mode), "0.1.0")
    assert document["openRegistrations"] is is_open
    assert document["metadata"]["registrationMode"] == mode


def test_the_schema_check_catches_a_bad_document():
    document = nodeinfo_document("2.1", facts(), "0.1.0")
    document["protocols"] = ["activitypub", "rss"]
    with pytest.raises(jsonschema.ValidationError):
        validate_nodeinfo(document, "2.1")


def test_nodeinfo_content_type_names_the_schema_as_profile():
    assert nodeinfo_content_type("2.1") == \
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
