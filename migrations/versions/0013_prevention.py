"""prevention: word filters, pre-moderation settings (instance and organisations), appeal
delay, federation allow-list mode

Revision ID: 0013_prevention
Revises: 0012_moderation
Create Date: 2026-11-24 04:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_prevention'
down_revision = '0012_moderation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('word_filter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=300), nullable=False),
    sa.Column('is_regex', sa.Boolean(), nullable=False),
    sa.Column('effect', sa.String(length=10), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_word_filter_created_by_id_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_word_filter'))
    )
    with op.batch_alter_table('instance_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appeal_days', sa.Integer(), server_default='14', nullable=False))
        batch_op.add_column(sa.Column('new_account_holds', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('federation_allowlist', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holds_comments', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('holds_comments')
    with op.batch_alter_table('instance_settings', schema=None) as batch_op:
        batch_op.drop_column('federation_allowlist')
        batch_op.drop_column('new_account_holds')
        batch_op.drop_column('appeal_days')
    op.drop_table('word_filter')
