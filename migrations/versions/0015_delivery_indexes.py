"""delivery indexes: a 410 finds the pending deliveries and the actors of its inbox
without reading whole tables

Revision ID: 0015_delivery_indexes
Revises: 0014_likes
Create Date: 2026-12-07 23:50:00

"""
from alembic import op

revision = '0015_delivery_indexes'
down_revision = '0014_likes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_remote_actor_inbox'), 'remote_actor', ['inbox'], unique=False)
    op.create_index(op.f('ix_remote_actor_shared_inbox'), 'remote_actor', ['shared_inbox'],
                    unique=False)
    op.create_index('ix_delivery_inbox', 'delivery', ['inbox', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_delivery_inbox', table_name='delivery')
    op.drop_index(op.f('ix_remote_actor_shared_inbox'), table_name='remote_actor')
    op.drop_index(op.f('ix_remote_actor_inbox'), table_name='remote_actor')
