"""moderation

Revision ID: 0012_moderation
Revises: 0011_charter
Create Date: 2026-11-24 04:09:53.003083

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_moderation'
down_revision = '0011_charter'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderation_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=12), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('public_explanation', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['account.id'], name=op.f('fk_moderation_case_assigned_to_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_moderation_case_org_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['account.id'], name=op.f('fk_moderation_case_subject_id_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_case'))
    )
    with op.batch_alter_table('moderation_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_case_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_moderation_case_status', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_case_subject_id'), ['subject_id'], unique=False)
        batch_op.create_index('ix_moderation_case_target', ['target_type', 'target_id'], unique=False)

    op.create_table('org_ban',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_org_ban_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], name=op.f('fk_org_ban_org_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'account_id', name=op.f('pk_org_ban'))
    )
    with op.batch_alter_table('org_ban', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_ban_account_id'), ['account_id'], unique=False)

    op.create_table('case_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['account.id'], name=op.f('fk_case_note_author_id_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['moderation_case.id'], name=op.f('fk_case_note_case_id_moderation_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note'))
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_case_id'), ['case_id'], unique=False)

    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('reporter_email', sa.String(length=254), nullable=False),
    sa.Column('charter_version_id', sa.Integer(), nullable=True),
    sa.Column('articles', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('told_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['moderation_case.id'], name=op.f('fk_report_case_id_moderation_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['charter_version_id'], ['charter_version.id'], name=op.f('fk_report_charter_version_id_charter_version'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_id'], ['account.id'], name=op.f('fk_report_reporter_id_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_appeal_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['action_id'], ['admin_action.id'], name=op.f('fk_appeal_action_id_admin_action'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['account.id'], name=op.f('fk_appeal_decided_by_id_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal')),
    sa.UniqueConstraint('action_id', name=op.f('uq_appeal_action_id'))
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('limited_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('admin_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_admin_action_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_admin_action_org_id'), ['org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_admin_action_org_id_organisation'), 'organisation', ['org_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_admin_action_case_id_moderation_case'), 'moderation_case', ['case_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_warning', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('discussion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_warning', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_warning', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_warning', sa.String(length=200), nullable=False, server_default=''))

    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_warning', sa.String(length=200), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_column('content_warning')

    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_column('content_warning')

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('content_warning')

    with op.batch_alter_table('discussion', schema=None) as batch_op:
        batch_op.drop_column('content_warning')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_column('content_warning')

    with op.batch_alter_table('admin_action', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_admin_action_case_id_moderation_case'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_admin_action_org_id_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_admin_action_org_id'))
        batch_op.drop_index(batch_op.f('ix_admin_action_case_id'))
        batch_op.drop_column('org_id')
        batch_op.drop_column('case_id')
        batch_op.drop_column('reason')

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('limited_at')

    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_account_id'))

    op.drop_table('appeal')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_report_case_id'))

    op.drop_table('report')
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_case_id'))

    op.drop_table('case_note')
    with op.batch_alter_table('org_ban', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_ban_account_id'))

    op.drop_table('org_ban')
    with op.batch_alter_table('moderation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_case_target')
        batch_op.drop_index(batch_op.f('ix_moderation_case_subject_id'))
        batch_op.drop_index('ix_moderation_case_status')
        batch_op.drop_index(batch_op.f('ix_moderation_case_org_id'))

    op.drop_table('moderation_case')
