"""likes: remote actors' likes of local content, local accounts' likes of remote content

Revision ID: 0014_likes
Revises: 0013_prevention
Create Date: 2026-12-07 20:00:00

"""
from alembic import op
import sqlalchemy as sa



revision = '0014_likes'
down_revision = '0013_prevention'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ap_like',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_type', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=12), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('activity_uri', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_like')),
    sa.UniqueConstraint('actor_type', 'actor_id', 'object_type', 'object_id', name=op.f('uq_ap_like_actor_type')),
    )
    with op.batch_alter_table('ap_like', schema=None) as batch_op:
        batch_op.create_index('ix_ap_like_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_ap_like_activity_uri', ['activity_uri'], unique=False)


def downgrade():
    with op.batch_alter_table('ap_like', schema=None) as batch_op:
        batch_op.drop_index('ix_ap_like_activity_uri')
        batch_op.drop_index('ix_ap_like_object')
    op.drop_table('ap_like')
