"""Demo content for a first start: an admin, three French organisations, a few members,
and what they publish (``hub.demo_content``).

Created once: the CLI only calls ``create_demo`` on a database without accounts
(``has_content``), so running it twice creates nothing twice.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from hub.accounts.models import Account
from hub.accounts.passwords import hash_password
from hub.accounts.services import claim_handle
from hub.extensions import db
from hub.models_base import utcnow
from hub.orgs.services import OrgDraft, found_organisation

ORGANISATIONS = [
    ("cdid_lyon", OrgDraft(
        name="Centre de documentation internationale pour le développement",
        summary="Bibliothèque associative et centre de ressources sur la solidarité "
                "internationale, à Lyon depuis 1977.",
        description="Le **CDID** accueille le public, les étudiantes et les militants pour "
                    "consulter plus de 20 000 documents : livres, revues, rapports d'ONG.\n\n"
                    "Nous animons la veille documentaire du réseau et des ateliers d'éducation "
                    "aux médias.",
        website="https://cdid.example.org", contact_email="contact@cdid.example.org",
        address="12 rue de la Charité, 69002 Lyon", latitude=45.7566, longitude=4.8320,
        themes="solidarité internationale, documentation, éducation populaire")),
    ("eau_commune", OrgDraft(
        name="Collectif Eau Commune",
        summary="Habitants, paysans et chercheurs pour une gestion publique et démocratique "
                "de l'eau.",
        description="Le collectif publie des analyses, organise des conférences publiques et "
                    "accompagne les communes qui reprennent leur eau en régie.\n\n"
                    "- Dossiers thématiques\n- Cartographie des captages\n- Rencontres "
                    "mensuelles",
        website="https://eaucommune.example.org", contact_email="bonjour@eaucommune.example.org",
        address="3 place du Marché, 26000 Valence", latitude=44.9334, longitude=4.8924,
        themes="eau, biens communs, environnement")),
    ("atelier_montreuil", OrgDraft(
        name="Atelier citoyen de Montreuil",
        summary="Un lieu ouvert pour réparer, apprendre et débattre ensemble.",
        description="Repair café le samedi, permanence numérique le mardi, et un cycle de "
                    "débats sur la démocratie locale.\n\n> Ici, chacun apporte ce qu'il sait.",
        website="https://atelier-montreuil.example.org",
        contact_email="atelier@montreuil.example.org",
        address="45 rue de Paris, 93100 Montreuil", latitude=48.8620, longitude=2.4410,
        themes="éducation populaire, numérique, démocratie locale")),
]

MEMBERS = [("camille", "Camille Martin"), ("youssef", "Youssef Benali"),
           ("lea", "Léa Dubois")]


def has_content() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Account)) or 0) > 0


def create_account(handle: str, email: str, password: str | None, *, role: str = "user",
                   display_name: str = "") -> Account:
    """An active account; ``password`` None leaves it without one (nobody can log in)."""
    typed, key = claim_handle(handle, "account")
    account = Account(handle=typed, handle_key=key, email=email,
                      password_hash=hash_password(password) if password else None,
                      security_stamp=secrets.token_hex(16),
                      role=role, status="active", email_confirmed_at=utcnow(),
                      display_name=display_name)
    db.session.add(account)
    db.session.flush()
    return account


def create_demo() -> str:
    """Create the demo content; returns the admin's password (shown once, never stored)."""
    from hub.admin.services import ensure_settings
    from hub.orgs.models import Membership

    settings = ensure_settings()
    settings.name = "Maillage — réseau de démonstration"
    settings.description = ("Un réseau d'associations qui partagent leurs actualités, "
                            "leurs ressources documentaires et leurs événements.")
    from hub.demo_content import Cast, create_demo_content

    password = secrets.token_urlsafe(12)
    admin = create_account("admin_demo", "admin@demo.invalid", password, role="admin",
                           display_name="Administration")
    # The members' passwords were never shown to anyone: leave them without one, which
    # also spares three slow argon2 hashes on a first start.
    people = [create_account(handle, f"{handle}@demo.invalid", None, display_name=name)
              for handle, name in MEMBERS]
    orgs = {}
    for index, (handle, draft) in enumerate(ORGANISATIONS):
        org = found_organisation(people[index], handle, draft)
        other = people[(index + 1) % len(people)]
        db.session.add(Membership(org_id=org.id, account_id=other.id, role="editor"))
        orgs[handle] = org
    db.session.flush()
    _demo_charter(admin, people)
    create_demo_content(Cast(admin=admin, orgs=orgs,
                             people={person.handle: person for person in people}))
    return password


CHARTER = [
    ("Respect", "On échange avec courtoisie. Pas d'insultes, de harcèlement ni de propos "
                "discriminatoires."),
    ("Exactitude", "On cite ses sources. Les ressources partagées indiquent leur auteur, "
                   "leur date et leur licence."),
    ("Vie privée", "On ne publie pas d'informations personnelles sur autrui sans son "
                   "accord."),
    ("Pas de publicité", "Les contenus commerciaux sans lien avec l'objet des associations "
                         "sont retirés."),
]


def _demo_charter(admin, people) -> None:
    """Version 1 of the instance charter, accepted by the demo's people."""
    from hub.moderation.charter import ArticleDraft, accept, publish_version

    version = publish_version(admin, [ArticleDraft(t, b) for t, b in CHARTER],
                              "Première version.")
    for person in people:
        accept(person, version)
