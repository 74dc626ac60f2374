"""The demo's content: a thesaurus, news, a library, an agenda and discussions, in French.

Everything goes through the real services (so permissions, search documents, themes and
notifications behave as they would for people), with dates relative to "now" so the
agenda always has something coming. Nothing here touches the network: links carry their
own title and description, and the demo PDF's text is extracted on the spot.

The services build links with ``url_for``, which needs a request: the CLI has none, so
``create_demo_content`` runs them inside a request context on ``HUB_BASE_URL``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context

from hub.accounts.models import Account
from hub.content.comments.services import add_comment
from hub.content.discussions.services import DiscussionDraft, open_discussion
from hub.content.events.services import EventDraft, create_event
from hub.content.models import Resource
from hub.content.posts.services import PostDraft, create_post, set_pinned
from hub.content.resources.services import (
    ResourceDraft,
    Upload,
    add_to_library,
    create_folder,
    share_resource,
)
from hub.content.resources.work import extract_file_text
from hub.content.search.index import sync
from hub.content.themes import ThemeDraft, save_theme
from hub.extensions import db
from hub.models_base import utcnow
from hub.notifications.models import NOTIFICATION_KINDS, NotificationPreference
from hub.orgs.models import Organisation

TZ = "Europe/Paris"

#: (label, label_fr, label_en, parent label or None, description). Parents come first.
THESAURUS = [
    ("Environnement", "Environnement", "Environment", None,
     "Milieux naturels, climat, pollutions et transition écologique."),
    ("Eau", "Eau", "Water", "Environnement",
     "Ressource en eau, captages, assainissement et gestion publique de l'eau."),
    ("Biodiversité", "Biodiversité", "Biodiversity", "Environnement",
     "Faune, flore, continuités écologiques et nature en ville."),
    ("Biens communs", "Biens communs", "Commons",  None,
     "Ressources gérées collectivement par celles et ceux qui en dépendent."),
    ("Solidarité internationale", "Solidarité internationale", "International solidarity",
     None, "Coopération entre les peuples, droits humains, commerce équitable."),
    ("Éducation populaire", "Éducation populaire", "Popular education", None,
     "Apprendre ensemble, hors de l'école, pour agir sur la société."),
    ("Numérique", "Numérique", "Digital", None,
     "Inclusion numérique, logiciels libres, usages critiques des outils."),
    ("Démocratie locale", "Démocratie locale", "Local democracy", None,
     "Participation des habitants aux décisions de leur commune."),
]

#: The word only the demo PDF contains: the tests search for it.
PDF_ONLY_WORD = "remunicipalisation"


# -- a small PDF with Dublin Core metadata --------------------------------------------------


@dataclass(frozen=True)
class DublinCore:
    """The Dublin Core elements written into the PDF (XMP) and its document information."""

    title: str
    creator: str
    description: str = ""
    subjects: tuple[str, ...] = ()
    publisher: str = ""
    date: str = ""
    language: str = "fr"
    rights: str = ""
    lines: tuple[str, ...] = field(default=())


def _pdf_literal(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def _pdf_text_string(text: str) -> bytes:
    """A document information string in UTF-16 (any accent survives)."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _xmp(meta: DublinCore) -> bytes:
    def alt(value: str) -> str:
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt>'

    def items(kind: str, values: tuple[str, ...]) -> str:
        lis = "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in values if v)
        return f"<rdf:{kind}>{lis}</rdf:{kind}>"

    xml = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:format>application/pdf</dc:format>"
        f"<dc:title>{alt(meta.title)}</dc:title>"
        f"<dc:creator>{items('Seq', (meta.creator,))}</dc:creator>"
        f"<dc:description>{alt(meta.description)}</dc:description>"
        f"<dc:subject>{items('Bag', meta.subjects)}</dc:subject>"
        f"<dc:publisher>{items('Bag', (meta.publisher,))}</dc:publisher>"
        f"<dc:date>{items('Seq', (meta.date,))}</dc:date>"
        f"<dc:language>{items('Bag', (meta.language,))}</dc:language>"
        f"<dc:rights>{alt(meta.rights)}</dc:rights>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>')
    return xml.encode("utf-8")


def demo_pdf(meta: DublinCore) -> bytes:
    """One A4 page of Helvetica text whose words pypdf can read, described in Dublin Core
    twice: an XMP packet (``dc:*``) and the classic document information dictionary."""
    text = [b"BT /F1 16 Tf 20 TL 56 780 Td ", _pdf_literal(meta.title), b" Tj /F1 11 Tf"]
    for line in meta.lines:
        text += [b" T* ", _pdf_literal(line), b" Tj"]
    content = b"".join(text) + b" ET"
    xmp = _xmp(meta)
    info = (b"<< /Title " + _pdf_text_string(meta.title)
            + b" /Author " + _pdf_text_string(meta.creator)
            + b" /Subject " + _pdf_text_string(meta.description)
            + b" /Keywords " + _pdf_text_string(", ".join(meta.subjects))
            + b" /Creator " + _pdf_text_string("Maillage (démonstration)") + b" >>")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R /Lang " + _pdf_literal(meta.language)
        + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp) + xmp
        + b"\nendstream",
        info,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


GUIDE = DublinCore(
    title="Reprendre l'eau en régie : guide pratique pour les communes",
    creator="Collectif Eau Commune",
    description="Étapes, calendrier et points de vigilance pour passer d'une délégation de "
                "service public à une régie de l'eau.",
    subjects=("eau", "biens communs", "régie publique", "services publics"),
    publisher="Collectif Eau Commune", date="2024-03", language="fr",
    rights="CC BY-SA 4.0",
    lines=(
        "Ce guide accompagne les élus et les habitants qui veulent reprendre la gestion",
        "de l'eau potable et de l'assainissement en régie publique.",
        "",
        "1. Faire l'état des lieux : contrat de délégation, patrimoine, captages.",
        "2. Associer les usagers dès le départ : comité consultatif, réunions publiques.",
        f"3. Préparer la {PDF_ONLY_WORD} avec le personnel et la trésorerie publique.",
        "4. Fixer un prix de l'eau juste : tarification progressive, premiers mètres",
        "   cubes gratuits pour les besoins essentiels.",
        "",
        "Valence, Grenoble et Paris ont montré que l'eau peut rester un bien commun.",
    ),
)


# -- running it -----------------------------------------------------------------------------


@dataclass
class Cast:
    """Who is who in the demo: the instance admin, three members, three organisations."""

    admin: Account
    people: Mapping[str, Account]
    orgs: Mapping[str, Organisation]


def create_demo_content(cast: Cast, now: datetime | None = None) -> None:
    """Fill the three demo organisations; flushes, the caller commits."""
    if has_request_context():
        _create(cast, now or utcnow())
        return
    with current_app.test_request_context("/", base_url=current_app.config["HUB_BASE_URL"]):
        _create(cast, now or utcnow())


def _create(cast: Cast, now: datetime) -> None:
    _quiet_mailboxes(cast)
    _thesaurus(cast.admin)
    _posts(cast, now)
    _library(cast)
    _agenda(cast, now)
    _discussions(cast)
    _watch(cast, now)


def _quiet_mailboxes(cast: Cast) -> None:
    """Demo members have no real mailbox (``@demo.invalid``): notify them on the site only."""
    for person in cast.people.values():
        for kind in NOTIFICATION_KINDS:
            db.session.add(NotificationPreference(account_id=person.id, kind=kind,
                                                  by_email=False))
    db.session.flush()


def _thesaurus(admin: Account) -> None:
    made: dict[str, int] = {}
    for label, label_fr, label_en, parent, description in THESAURUS:
        tag = save_theme(admin, None, ThemeDraft(
            label=label, label_fr=label_fr, label_en=label_en,
            parent_id=made[parent] if parent else None, description=description))
        made[label] = tag.id


# -- news -----------------------------------------------------------------------------------


def _posts(cast: Cast, now: datetime) -> None:
    people, orgs = cast.people, cast.orgs
    pinned = create_post(people["camille"], orgs["cdid_lyon"], PostDraft(
        title="Le centre de documentation ouvre désormais le samedi",
        summary="À partir de ce mois-ci, la salle de lecture vous accueille aussi le samedi "
                "de 10 h à 17 h.",
        body="Bonne nouvelle pour les étudiantes, les bénévoles et toutes les personnes qui "
             "travaillent en semaine : **la salle de lecture ouvre le samedi**.\n\n"
             "## Ce qui change\n\n"
             "- ouverture de 10 h à 17 h, sans interruption ;\n"
             "- prêt et retour des documents ;\n"
             "- un atelier de recherche documentaire le premier samedi du mois.\n\n"
             "Merci à @youssef qui coordonne l'équipe bénévole du samedi. "
             "#solidarite-internationale #education-populaire",
        themes="Documentation", status="published"), now=now - timedelta(days=9))
    set_pinned(people["camille"], pinned, True)
    create_post(people["camille"], orgs["cdid_lyon"], PostDraft(
        title="Programme des ateliers d'automne (brouillon)",
        summary="Les dates ne sont pas encore fixées.",
        body="À compléter : lecture critique de l'information, initiation aux bases de "
             "données documentaires, atelier « cartographier ses sources ».",
        themes="Éducation populaire", status="draft"), now=now - timedelta(days=2))
    create_post(people["youssef"], orgs["eau_commune"], PostDraft(
        title="Valence : la régie publique de l'eau fête ses cinq ans",
        summary="Un prix stable, des investissements relancés et des usagers associés aux "
                "décisions : le bilan d'une reprise en main réussie.",
        body="Il y a cinq ans, la ville reprenait la gestion de son **eau potable** en "
             "régie. Depuis, le prix du mètre cube est resté stable et le rendement du "
             "réseau est passé de 72 % à 81 %.\n\n"
             "> « L'eau n'est pas une marchandise, c'est un bien commun. »\n\n"
             "Le collectif publiera bientôt un dossier complet préparé avec @lea. "
             "Retrouvez aussi [l'observatoire national des services d'eau]"
             "(https://www.services.eaufrance.fr/).\n\n#eau #biens-communs",
        status="published"), now=now - timedelta(days=6))
    create_post(people["lea"], orgs["eau_commune"], PostDraft(
        title="Ordre du jour de l'assemblée générale",
        summary="Réservé aux membres du collectif.",
        body="1. Rapport moral et financier\n2. Campagne sur la tarification sociale de "
             "l'eau\n3. Élection du bureau\n\nMerci de confirmer votre présence. #eau",
        visibility="members", status="published"), now=now - timedelta(days=3))
    in_a_week = (now + timedelta(days=7)).astimezone(ZoneInfo(TZ)).date()
    create_post(people["youssef"], orgs["eau_commune"], PostDraft(
        title="Appel à témoignages : vos factures d'eau",
        summary="Votre facture a-t-elle augmenté ? Racontez-nous.",
        body="Nous préparons une enquête sur le **prix de l'eau** dans la Drôme. Envoyez-nous "
             "vos factures (anonymisées) et vos questions. #eau",
        status="scheduled", publish_date=in_a_week, publish_time=time(9, 0)), now=now)
    create_post(people["lea"], orgs["atelier_montreuil"], PostDraft(
        title="Repair café de mars : 42 objets réparés",
        summary="Grille-pains, vélos, ordinateurs : un après-midi record à l'atelier.",
        body="Merci aux 15 bénévoles réparateurs et à @camille pour l'accueil !\n\n"
             "Sur 58 objets apportés, **42 sont repartis réparés**, dont 9 ordinateurs "
             "remis en route sous Linux. Prochain rendez-vous dans l'agenda.\n\n"
             "#numerique #education-populaire",
        themes="réemploi", status="published"), now=now - timedelta(days=12))
    create_post(people["camille"], orgs["atelier_montreuil"], PostDraft(
        title="Permanence numérique : nouveaux horaires",
        summary="La permanence d'aide aux démarches en ligne a lieu le mardi de 14 h à 18 h.",
        body="Démarches administratives, courriel, visio avec la famille : venez avec vos "
             "questions, sans rendez-vous. #numerique #democratie-locale",
        status="published"), now=now - timedelta(days=1))


# -- the library ----------------------------------------------------------------------------


def _link(actor: Account, org: Organisation, draft: ResourceDraft) -> Resource:
    """A link shared with its title and description written: nothing to fetch, no job."""
    resource = share_resource(actor, org, draft)
    resource.job_status = ""
    return resource


def _library(cast: Cast) -> None:
    people, orgs = cast.people, cast.orgs
    cdid, eau, atelier = orgs["cdid_lyon"], orgs["eau_commune"], orgs["atelier_montreuil"]
    guides = create_folder(people["camille"], cdid, "Guides pratiques",
                           "Fiches et guides pour les associations du réseau.")
    _link(people["camille"], cdid, ResourceDraft(
        kind="link", title="Ritimo, réseau d'information pour la solidarité internationale",
        source_url="https://www.ritimo.org/", publisher="Ritimo", language="fr",
        abstract="Un réseau de lieux de documentation "
        "et un site d'analyses sur la solidarité internationale et les droits humains.",
        themes=("solidarite-internationale",), keywords="documentation, centres de ressources"))
    share_resource(people["youssef"], cdid, ResourceDraft(
        kind="note", title="Comment citer un document du centre",
        body="Pour citer un document de nos fonds, indiquez :\n\n"
             "1. l'auteur ou l'organisation ;\n2. le titre en *italique* ;\n"
             "3. l'éditeur et l'année ;\n4. la cote du centre (par exemple `CDID 363.6 EAU`).\n\n"
             "Besoin d'aide ? Demandez à @camille. #education-populaire",
        language="fr", doc_type="guide", licence="cc-by", themes=("education-populaire",),
        keywords="bibliographie, citation", folder_id=guides.id))
    _link(people["camille"], cdid, ResourceDraft(
        kind="link", title="Le droit à l'eau et à l'assainissement, un droit humain",
        source_url="https://www.ohchr.org/fr/water-and-sanitation",
        publisher="Haut-Commissariat des Nations unies aux droits de l'homme",
        date_published="2010-07-28", language="fr", doc_type="legal",
        abstract="La résolution 64/292 de l'Assemblée générale reconnaît le droit à une eau "
                 "potable salubre et propre comme un droit fondamental.",
        themes=("eau", "solidarite-internationale")))
    guide = share_resource(people["youssef"], eau, ResourceDraft(
        kind="file", title=GUIDE.title, authors="Collectif Eau Commune\nLéa Dubois",
        publisher=GUIDE.publisher, date_published=GUIDE.date, language="fr",
        doc_type="guide", licence="cc-by-sa", abstract=GUIDE.description,
        themes=("eau", "biens-communs"), keywords="régie publique, services publics"),
        upload=Upload(io.BytesIO(demo_pdf(GUIDE)), "guide-regie-eau.pdf"))
    extract_file_text(guide)  # no worker may be running yet: searchable at once
    guide.job_status = "done"
    sync("resource", guide)
    add_to_library(people["camille"], cdid, guide, folder_id=guides.id)
    _link(people["lea"], eau, ResourceDraft(
        kind="link", title="Observatoire des services publics d'eau et d'assainissement",
        source_url="https://www.services.eaufrance.fr/", publisher="OFB", language="fr",
        doc_type="dataset", abstract="Prix de l'eau, qualité et performance des services, "
        "commune par commune.", themes=("eau",), keywords="données ouvertes"))
    share_resource(people["lea"], eau, ResourceDraft(
        kind="note", title="Compte rendu de la rencontre mensuelle",
        body="Présents : 14 personnes.\n\n- Point sur la cartographie des captages : "
             "23 captages relevés, 4 à vérifier sur le terrain.\n- Prochaine conférence "
             "publique : voir l'agenda.\n\nRédigé par @lea. #eau",
        language="fr", visibility="members", themes=("eau",)))
    _link(people["lea"], atelier, ResourceDraft(
        kind="link", title="Trouver un repair café près de chez soi",
        source_url="https://www.repaircafe.org/fr/", publisher="Repair Café International",
        language="fr", abstract="La carte des repair cafés et un kit pour en ouvrir un.",
        themes=("education-populaire",), keywords="réemploi, réparation"))
    _link(people["camille"], atelier, ResourceDraft(
        kind="link", title="Les Bons Clics : ressources pour l'accompagnement numérique",
        source_url="https://www.lesbonsclics.fr/", publisher="WeTechCare", language="fr",
        doc_type="guide", abstract="Fiches et parcours pour aider les personnes éloignées "
        "du numérique dans leurs démarches en ligne.", themes=("numerique",),
        keywords="inclusion numérique, médiation"))


# -- the agenda -----------------------------------------------------------------------------


def _day(now: datetime, days: int) -> date:
    return (now + timedelta(days=days)).astimezone(ZoneInfo(TZ)).date()


def _agenda(cast: Cast, now: datetime) -> None:
    people, orgs = cast.people, cast.orgs

    def when(days: int, start: time, end: time) -> dict:
        return {"start_date": _day(now, days), "start_time": start,
                "end_date": _day(now, days), "end_time": end, "timezone": TZ}

    create_event(people["lea"], orgs["atelier_montreuil"], EventDraft(
        title="Repair café de printemps",
        description="Apportez vos objets en panne : petit électroménager, vélos, "
                    "ordinateurs, vêtements. **Entrée libre**, café offert. "
                    "#education-populaire #numerique",
        place_name="Atelier citoyen de Montreuil", address="45 rue de Paris, 93100 Montreuil",
        latitude=48.8620, longitude=2.4410, **when(9, time(14), time(18))))
    create_event(people["youssef"], orgs["eau_commune"], EventDraft(
        title="Webinaire : l'eau, un bien commun à défendre",
        description="Une heure pour comprendre la gestion de l'eau en France et les leviers "
                    "des communes, avec le temps des questions. #eau #biens-communs",
        online_url="https://visio.eaucommune.example.org/bien-commun",
        **when(16, time(18, 30), time(20))))
    create_event(people["camille"], orgs["cdid_lyon"], EventDraft(
        title="Rencontre : la veille documentaire en réseau",
        description="Retour d'expérience des centres de ressources de la région sur la veille "
                    "partagée. #solidarite-internationale",
        place_name="CDID", address="12 rue de la Charité, 69002 Lyon",
        **when(-12, time(10), time(12))))
    create_event(people["lea"], orgs["eau_commune"], EventDraft(
        title="Balade des captages de la Drôme",
        description="Annulée en raison des prévisions d'orages ; elle sera reprogrammée. #eau",
        place_name="Parking du moulin", address="Chabeuil, Drôme", status="cancelled",
        **when(23, time(9, 30), time(16))))


# -- discussions ----------------------------------------------------------------------------


def _discussions(cast: Cast) -> None:
    camille, youssef, lea = (cast.people[h] for h in ("camille", "youssef", "lea"))
    water = open_discussion(lea, cast.orgs["eau_commune"], DiscussionDraft(
        title="Quels indicateurs pour suivre la qualité de l'eau ?",
        body="Pour notre prochain dossier, je propose de suivre trois indicateurs par "
             "commune : nitrates, pesticides et rendement du réseau. Qu'en pensez-vous ? "
             "#eau"))
    first = add_comment(youssef, "discussion", water,
                        "Bonne idée. Ajoutons le **prix au mètre cube**, c'est ce qui parle "
                        "le plus aux habitants.")
    reply = add_comment(lea, "discussion", water,
                        "D'accord, je le prends dans les données de l'observatoire.", first)
    add_comment(camille, "discussion", water,
                "Le CDID a des rapports d'ONG sur le sujet : je vous les mets de côté.",
                reply)
    add_comment(camille, "discussion", water,
                "Pensez aussi aux captages abandonnés, souvent oubliés des bilans.")
    free = open_discussion(camille, cast.orgs["atelier_montreuil"], DiscussionDraft(
        title="Organiser un atelier d'initiation aux logiciels libres",
        body="Plusieurs personnes de la permanence numérique demandent une initiation à "
             "LibreOffice et Firefox. Qui serait partant pour animer ? #numerique"))
    offer = add_comment(lea, "discussion", free,
                        "Je peux animer la partie LibreOffice un samedi sur deux.")
    thanks = add_comment(camille, "discussion", free, "Merci @lea ! Je prépare les "
                         "ordinateurs reconditionnés du repair café.", offer)
    add_comment(youssef, "discussion", free,
                "Je passerai aider pour l'installation si besoin.", thanks)


# -- the collective watch -------------------------------------------------------------------

#: A partner's feed as the poller would have stored it. The source is paused so that a demo
#: started offline does not show errors; an admin resumes it from "Manage watched feeds".
WATCH_ITEMS = (
    ("Semaine des alternatives aux pesticides : le programme", 2,
     "<p>Projections, balades botaniques et ateliers dans toute la région.</p>"),
    ("Dossier : l'eau, bien commun ou marchandise ?", 9,
     "<p>Un dossier de fond sur la gestion publique de l'eau, avec des fiches "
     "d'expériences locales.</p>"),
    ("Fiche pratique : animer une veille documentaire à plusieurs", 20,
     "<p>Répartir les sources, tagger, partager : une méthode pas à pas.</p>"),
)


def _watch(cast: Cast, now: datetime) -> None:
    import hashlib

    from hub.feeds.models import FeedSource, WatchItem

    org = cast.orgs["cdid_lyon"]
    source = FeedSource(org_id=org.id, url="https://www.coredem.info/spip.php?page=backend",
                        title="Coredem — actualités du réseau",
                        site_url="https://www.coredem.info/", status="paused",
                        created_by_id=cast.people["camille"].id)
    db.session.add(source)
    db.session.flush()
    for n, (title, days, summary) in enumerate(WATCH_ITEMS, start=1):
        link = f"https://www.coredem.info/spip.php?article{100 + n}"
        db.session.add(WatchItem(
            source_id=source.id, org_id=org.id, guid=link,
            guid_key=hashlib.sha256(link.encode()).hexdigest(),
            link_key=hashlib.sha256(link.encode()).hexdigest(), link=link, title=title,
            author="Coredem", summary_html=summary, published_at=now - timedelta(days=days),
            fetched_at=now))
    db.session.flush()
