"""remote content: objects from followed actors, replies as comments

Revision ID: 0008_remote_content
Revises: 0007_federation
Create Date: 2026-11-24 03:31:40.452754

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_remote_content'
down_revision = '0007_federation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('remote_object',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.String(length=2000), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('ap_type', sa.String(length=20), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('summary_html', sa.Text(), nullable=False),
    sa.Column('content_html', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('themes', sa.String(length=700), nullable=False),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('attachments', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('place_name', sa.String(length=300), nullable=False),
    sa.Column('place_address', sa.String(length=500), nullable=False),
    sa.Column('online_url', sa.String(length=2000), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['remote_actor.id'], name=op.f('fk_remote_object_actor_id_remote_actor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_object')),
    sa.UniqueConstraint('uri', name=op.f('uq_remote_object_uri'))
    )
    with op.batch_alter_table('remote_object', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_object_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_remote_object_published', ['published_at', 'id'], unique=False)

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_actor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ap_uri', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('remote_url', sa.String(length=2000), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_comment_remote_actor_id'), ['remote_actor_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_comment_ap_uri'), ['ap_uri'])
        batch_op.create_foreign_key(batch_op.f('fk_comment_remote_actor_id_remote_actor'), 'remote_actor', ['remote_actor_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comment_remote_actor_id_remote_actor'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_comment_ap_uri'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_comment_remote_actor_id'))
        batch_op.drop_column('remote_url')
        batch_op.drop_column('ap_uri')
        batch_op.drop_column('remote_actor_id')

    with op.batch_alter_table('remote_object', schema=None) as batch_op:
        batch_op.drop_index('ix_remote_object_published')
        batch_op.drop_index(batch_op.f('ix_remote_object_actor_id'))

    op.drop_table('remote_object')
