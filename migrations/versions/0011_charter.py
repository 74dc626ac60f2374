"""charter: versions of numbered articles (instance and organisations), acceptances

Revision ID: 0011_charter
Revises: 0010_replies_and_domain_policies
Create Date: 2026-11-24 04:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_charter'
down_revision = '0010_replies_and_domain_policies'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('charter_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_charter_version_org_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['account.id'], name=op.f('fk_charter_version_published_by_id_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charter_version')),
    sa.UniqueConstraint('org_id', 'number', name=op.f('uq_charter_version_org_id'))
    )
    with op.batch_alter_table('charter_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charter_version_org_id'), ['org_id'], unique=False)

    op.create_table('charter_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_source', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['charter_version.id'], name=op.f('fk_charter_article_version_id_charter_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charter_article'))
    )
    with op.batch_alter_table('charter_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charter_article_version_id'), ['version_id'], unique=False)

    op.create_table('charter_acceptance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_charter_acceptance_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['charter_version.id'], name=op.f('fk_charter_acceptance_version_id_charter_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_charter_acceptance')),
    sa.UniqueConstraint('account_id', 'version_id', name=op.f('uq_charter_acceptance_account_id'))
    )
    with op.batch_alter_table('charter_acceptance', schema=None) as batch_op:
        batch_op.create_index('ix_charter_acceptance_version', ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('charter_acceptance', schema=None) as batch_op:
        batch_op.drop_index('ix_charter_acceptance_version')
    op.drop_table('charter_acceptance')
    with op.batch_alter_table('charter_article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charter_article_version_id'))
    op.drop_table('charter_article')
    with op.batch_alter_table('charter_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charter_version_org_id'))
    op.drop_table('charter_version')
