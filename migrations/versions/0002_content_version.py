"""instance_settings.content_version: the public pages' cache key

Revision ID: 0002_content_version
Revises: 0001_foundation
Create Date: 2026-11-23 15:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_content_version'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instance_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_version', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('instance_settings', schema=None) as batch_op:
        batch_op.drop_column('content_version')
