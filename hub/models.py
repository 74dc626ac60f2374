"""Imports every models module, so the metadata is complete for Alembic and the app."""

from hub.accounts import models as accounts_models  # noqa: F401
from hub.admin import models as admin_models  # noqa: F401
from hub.content import models as content_models  # noqa: F401
from hub.federation import models as federation_models  # noqa: F401
from hub.feeds import models as feeds_models  # noqa: F401
from hub.mail import models as mail_models  # noqa: F401
from hub.moderation import models as moderation_models  # noqa: F401
from hub.notifications import models as notifications_models  # noqa: F401
from hub.orgs import models as orgs_models  # noqa: F401
