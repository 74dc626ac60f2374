"""network replies (local replies to content from the network) and domain policies

Revision ID: 0010_replies_and_domain_policies
Revises: 0009_follower_approval
Create Date: 2026-11-24 04:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_replies_and_domain_policies'
down_revision = '0009_follower_approval'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('network_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('remote_object_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body_source', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_network_reply_author_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remote_object_id'], ['remote_object.id'], name=op.f('fk_network_reply_remote_object_id_remote_object'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_reply'))
    )
    with op.batch_alter_table('network_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_reply_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_reply_remote_object_id'), ['remote_object_id'], unique=False)

    op.create_table('domain_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('severity', sa.String(length=12), nullable=False),
    sa.Column('reject_media', sa.Boolean(), nullable=False),
    sa.Column('public_reason', sa.String(length=500), nullable=False),
    sa.Column('private_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['account.id'], name=op.f('fk_domain_policy_created_by_id_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_policy')),
    sa.UniqueConstraint('domain', name=op.f('uq_domain_policy_domain'))
    )


def downgrade():
    op.drop_table('domain_policy')
    with op.batch_alter_table('network_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_reply_remote_object_id'))
        batch_op.drop_index(batch_op.f('ix_network_reply_author_id'))
    op.drop_table('network_reply')
