"""Alembic environment for the hub's own tables (hub_*). Dataset tables are derived from schemas instead."""

from alembic import context
from sqlalchemy.schema import SchemaItem

from publish.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def include_object(obj: SchemaItem, name: str | None, type_: str, reflected: bool,
                   compare_to: SchemaItem | None) -> bool:
    # Only the hub's own tables are Alembic's business; ds_* and SpatiaLite tables are not.
    if type_ == "table":
        return name is not None and name.startswith("hub_")
    return True


if context.is_offline_mode():
    # `hub migrate --sql`: write the SQL for review instead of running it
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                      include_object=include_object, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is None:
    from publish.db import create_engine

    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "publish.migrate sets sqlalchemy.url"
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, include_object=include_object,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
