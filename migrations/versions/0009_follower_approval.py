"""follower approval: accounts and organisations may approve followers from other servers by hand

Revision ID: 0009_follower_approval
Revises: 0008_remote_content
Create Date: 2026-11-24 04:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_follower_approval'
down_revision = '0008_remote_content'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approves_followers', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approves_followers', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('approves_followers')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('approves_followers')
